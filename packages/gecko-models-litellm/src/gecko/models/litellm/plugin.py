"""gecko-models-litellm's plugin module. Never imports litellm (it takes seconds).

Registers every litellm provider (``openai/...``, ``anthropic/...``), the presets
(``zhipu/...``, ``compatible/...``) and the ``litellm/...`` escape hatch as model
and embedder providers, all as ``"module:attr"`` strings imported on first use.
"""

from __future__ import annotations

from gecko.core.plugins import EmbedderRegistrar, ModelRegistrar, hookimpl
from gecko.models.litellm.presets import PRESETS
from gecko.models.litellm.providers import ESCAPE_HATCH, LITELLM_PROVIDERS


def provider_names() -> list[str]:
    """Every provider prefix this plugin answers for."""
    return sorted({*LITELLM_PROVIDERS, *PRESETS, ESCAPE_HATCH})


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register(provider_names(), "gecko.models.litellm.chat:LiteLLMChatModel")


@hookimpl
def register_embedders(register: EmbedderRegistrar) -> None:
    register(provider_names(), "gecko.models.litellm.embedder:LiteLLMEmbedder")
