"""Input guardrails that run before the model: length limits, prompt-injection heuristics, PII masking.

    guard = InputGuard(["max_length", "prompt_injection", "pii"], on_violation="refuse")
    result = await guard.check(user_text)   # result.text is what the model may see

Names resolve through the ``register_guardrails`` plugin hook, so third-party
guardrails are used the same way as the built-in ones.
"""

from __future__ import annotations

from gecko.core.guardrails.base import (
    DEFAULT_REFUSAL,
    Guardrail,
    GuardrailResult,
    GuardrailSpec,
    InputGuard,
    resolve_guardrail,
)
from gecko.core.guardrails.injection import DEFAULT_PATTERNS, PromptInjectionGuardrail
from gecko.core.guardrails.length import MaxLengthGuardrail
from gecko.core.guardrails.pii import PII_KINDS, PIIMaskingGuardrail, mask_pii

__all__ = [
    "DEFAULT_PATTERNS",
    "DEFAULT_REFUSAL",
    "PII_KINDS",
    "Guardrail",
    "GuardrailResult",
    "GuardrailSpec",
    "InputGuard",
    "MaxLengthGuardrail",
    "PIIMaskingGuardrail",
    "PromptInjectionGuardrail",
    "mask_pii",
    "resolve_guardrail",
]
