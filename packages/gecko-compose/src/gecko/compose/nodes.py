"""``@step`` (mark a function as a workflow node, with options) and ``Next`` (dynamic jumps)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from gecko.compose.errors import WorkflowValidationError
from gecko.core.retry import RetryPolicy
from gecko.core.validation import check_number

F = TypeVar("F", bound=Callable[..., Any])

END = "__end__"
"""``Next(END, input=value)`` finishes the run now, with ``value`` as its result."""

_STEP_ATTRIBUTE = "__gecko_step__"


@dataclass(frozen=True, slots=True)
class Next:
    """Returned by a node to jump to ``node`` instead of following the static edges.

    ``input`` is what ``node`` receives; ``None`` (the default) passes on the
    jumping node's own input unchanged. ``update_state`` is applied to the state
    (as writes of the jumping node) before the jump. The rest of the static plan
    is dropped: the run continues from ``node`` and whatever is reachable from it.
    """

    node: str
    input: Any = None
    update_state: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.node, str) or not self.node:
            raise WorkflowValidationError(f"Next(node=...) must be a node name, got {self.node!r}")
        if self.update_state is not None and not isinstance(self.update_state, Mapping):
            raise WorkflowValidationError(
                f"Next(update_state=...) must be a mapping of state keys to values, "
                f"got {type(self.update_state).__name__}"
            )


@dataclass(frozen=True, slots=True)
class StepOptions:
    """Options attached to a function by ``@step``; ``add_node`` arguments override them."""

    name: str | None = None
    retry: RetryPolicy | None = None
    timeout: float | None = None
    offload: bool = True


@overload
def step(fn: F, /) -> F: ...


@overload
def step(
    name: str | None = None,
    /,
    *,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    offload: bool = True,
) -> Callable[[F], F]: ...


def step(
    fn_or_name: Any = None,
    /,
    *,
    name: str | None = None,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    offload: bool = True,
) -> Any:
    """Mark a sync or async function as a workflow node: ``@step``, ``@step("Name")``, ``@step(retry=...)``.

    The function is returned unchanged (still directly callable and testable);
    the options travel with it. ``offload=False`` runs a *sync* function on the
    event loop instead of a worker thread: only for trivial, non-blocking code.
    """
    if callable(fn_or_name):
        return _mark(
            fn_or_name, StepOptions(name=name, retry=retry, timeout=timeout, offload=offload)
        )
    if fn_or_name is not None and not isinstance(fn_or_name, str):
        raise WorkflowValidationError(f"@step takes a function or a name, got {fn_or_name!r}")
    options = StepOptions(name=fn_or_name or name, retry=retry, timeout=timeout, offload=offload)

    def decorate(fn: F) -> F:
        return _mark(fn, options)

    return decorate


def _mark(fn: F, options: StepOptions) -> F:
    check_number(
        "@step(timeout=...)",
        options.timeout,
        above=0,
        finite=False,
        unit="seconds",
        allow_none=True,
        error=WorkflowValidationError,
    )
    try:
        setattr(fn, _STEP_ATTRIBUTE, options)
    except (AttributeError, TypeError) as exc:
        raise WorkflowValidationError(
            f"@step cannot decorate {fn!r}",
            hint="decorate a plain function, or pass options to add_node(retry=..., timeout=...)",
        ) from exc
    return fn


def step_options(fn: Any) -> StepOptions | None:
    """The ``@step`` options of ``fn``, if it was decorated."""
    options = getattr(fn, _STEP_ATTRIBUTE, None)
    return options if isinstance(options, StepOptions) else None
