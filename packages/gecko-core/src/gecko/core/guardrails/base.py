"""The guardrail protocol, its result type, and ``InputGuard``, which runs a chain of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, Union, runtime_checkable

from pydantic import BaseModel, Field

from gecko.core.errors import ConfigurationError, GuardrailViolation

DEFAULT_REFUSAL = "Sorry, I can't help with that request."


class GuardrailResult(BaseModel):
    """What a guardrail decided about one input."""

    allowed: bool
    text: str
    """The input, possibly modified (e.g. PII masked); the refusal when refused."""
    reason: str | None = None
    guardrail: str | None = None
    """The guardrail that blocked the input (or the last that modified it)."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Guardrail-specific findings, e.g. ``{"pii": {"email": 2}}``."""


@runtime_checkable
class Guardrail(Protocol):
    """An input check. ``check`` returns the (possibly modified) text or a block."""

    name: str

    async def check(self, text: str) -> GuardrailResult: ...


GuardrailSpec = Union[Guardrail, str, tuple[str, Mapping[str, Any]]]
"""A guardrail object, a registered name, or ``(name, options)``."""


def resolve_guardrail(spec: GuardrailSpec) -> Guardrail:
    """A guardrail object from a spec; names go through the ``register_guardrails`` hook."""
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        name, options = spec[0], dict(spec[1])
    elif isinstance(spec, Guardrail):
        return spec
    else:
        raise ConfigurationError(
            f"not a guardrail: {spec!r}",
            hint="pass a guardrail object (with `name` and `async check(text)`), a registered "
            "name such as 'pii', or (name, options) such as ('max_length', {'max_chars': 2000})",
        )
    from gecko.core.factories import create_registered

    guardrail = create_registered("guardrails", name, **options)
    if not isinstance(guardrail, Guardrail):
        raise ConfigurationError(
            f"guardrail {name!r} was registered with a factory that returned "
            f"{type(guardrail).__name__}, which has no `name` and `async check(text)`",
            name=name,
        )
    return guardrail


class InputGuard:
    """Runs guardrails in order on an input before it reaches the model.

    Each guardrail sees the text as left by the previous one (so masking
    composes). The first that blocks stops the chain: with
    ``on_violation="raise"`` a ``GuardrailViolation`` naming the guardrail and
    the reason is raised; with ``"refuse"`` a result with ``allowed=False``
    and ``text=refusal`` is returned, for the caller to answer with.
    """

    def __init__(
        self,
        guardrails: Sequence[GuardrailSpec],
        *,
        on_violation: Literal["raise", "refuse"] = "raise",
        refusal: str = DEFAULT_REFUSAL,
    ) -> None:
        if on_violation not in ("raise", "refuse"):
            raise ConfigurationError(
                f"on_violation must be 'raise' or 'refuse', got {on_violation!r}"
            )
        if isinstance(guardrails, str):
            guardrails = [guardrails]
        self.guardrails: list[Guardrail] = [resolve_guardrail(spec) for spec in guardrails]
        self.on_violation = on_violation
        self.refusal = refusal

    def __repr__(self) -> str:
        names = [g.name for g in self.guardrails]
        return f"InputGuard({names}, on_violation={self.on_violation!r})"

    async def check(self, text: str) -> GuardrailResult:
        """Run the chain on ``text``; see the class docstring for what a block does."""
        if not isinstance(text, str):
            raise ConfigurationError(f"guardrails check text, got {type(text).__name__}")
        current = text
        details: dict[str, Any] = {}
        modified_by: str | None = None
        for guardrail in self.guardrails:
            result = await guardrail.check(current)
            if result.details:
                details[guardrail.name] = result.details
            if not result.allowed:
                name = result.guardrail or guardrail.name
                reason = result.reason or "blocked"
                if self.on_violation == "raise":
                    raise GuardrailViolation(
                        f"input blocked by guardrail {name!r}: {reason}",
                        hint="change the input, or adjust the guardrail's configuration",
                        guardrail=name,
                        reason=reason,
                    )
                return GuardrailResult(
                    allowed=False, text=self.refusal, reason=reason, guardrail=name, details=details
                )
            if result.text != current:
                modified_by = guardrail.name
            current = result.text
        return GuardrailResult(allowed=True, text=current, guardrail=modified_by, details=details)
