"""``MaxLengthGuardrail``: refuse inputs longer than a limit (characters and/or tokens)."""

from __future__ import annotations

from gecko.core.errors import ConfigurationError
from gecko.core.guardrails.base import GuardrailResult
from gecko.core.models.tokens import estimate_tokens
from gecko.core.validation import check_int

DEFAULT_MAX_CHARS = 32_000


class MaxLengthGuardrail:
    """Blocks inputs above ``max_chars`` characters or ``max_tokens`` (estimated) tokens."""

    name = "max_length"

    def __init__(
        self, max_chars: int | None = DEFAULT_MAX_CHARS, *, max_tokens: int | None = None
    ) -> None:
        for option, value in (("max_chars", max_chars), ("max_tokens", max_tokens)):
            check_int(option, value, minimum=1, allow_none=True)
        if max_chars is None and max_tokens is None:
            raise ConfigurationError("MaxLengthGuardrail needs max_chars or max_tokens")
        self.max_chars = max_chars
        self.max_tokens = max_tokens

    async def check(self, text: str) -> GuardrailResult:
        if self.max_chars is not None and len(text) > self.max_chars:
            return self._block(
                f"input is {len(text)} characters long, above the limit of {self.max_chars}", text
            )
        if self.max_tokens is not None:
            tokens = estimate_tokens(text)
            if tokens > self.max_tokens:
                return self._block(
                    f"input is about {tokens} tokens long, above the limit of {self.max_tokens}",
                    text,
                )
        return GuardrailResult(allowed=True, text=text)

    def _block(self, reason: str, text: str) -> GuardrailResult:
        return GuardrailResult(allowed=False, text=text, reason=reason, guardrail=self.name)
