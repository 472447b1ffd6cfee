"""Chat models and embedders for every provider litellm speaks, for Gecko.

    from gecko.core.factories import create_model, create_embedder

    model = create_model("openai/gpt-4o-mini")            # or LiteLLMChatModel("openai/gpt-4o-mini")
    embedder = create_embedder("openai/text-embedding-3-small")

Importing this package is cheap: litellm is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.lazy import lazy_exports

if TYPE_CHECKING:
    from gecko.core.retry import RetryPolicy
    from gecko.models.litellm.chat import LiteLLMChatModel
    from gecko.models.litellm.embedder import LiteLLMEmbedder
    from gecko.models.litellm.presets import PRESETS, Preset
    from gecko.models.litellm.ratelimit import (
        RateLimiter,
        clear_rate_limits,
        rate_limiter_for,
        set_rate_limit,
    )
    from gecko.models.litellm.retry import model_retry_policy

_EXPORTS = {
    "LiteLLMChatModel": "gecko.models.litellm.chat",
    "LiteLLMEmbedder": "gecko.models.litellm.embedder",
    "PRESETS": "gecko.models.litellm.presets",
    "Preset": "gecko.models.litellm.presets",
    "RateLimiter": "gecko.models.litellm.ratelimit",
    "clear_rate_limits": "gecko.models.litellm.ratelimit",
    "rate_limiter_for": "gecko.models.litellm.ratelimit",
    "set_rate_limit": "gecko.models.litellm.ratelimit",
    "RetryPolicy": "gecko.core.retry",
    "model_retry_policy": "gecko.models.litellm.retry",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "PRESETS",
    "LiteLLMChatModel",
    "LiteLLMEmbedder",
    "Preset",
    "RateLimiter",
    "RetryPolicy",
    "clear_rate_limits",
    "model_retry_policy",
    "rate_limiter_for",
    "set_rate_limit",
]
