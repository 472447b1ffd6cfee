"""From a Gecko model id to what litellm is called with: model string, base URL, key.

- ``openai/gpt-4o-mini``, ``anthropic/claude-...``: any litellm provider, passed as is.
- ``zhipu/glm-4-flash``, ``compatible/qwen2.5`` ...: a preset (see ``presets``).
- ``litellm/<any litellm model string>``: the escape hatch, passed to litellm unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pydantic import SecretStr

from gecko.core.errors import ConfigurationError
from gecko.models.litellm.presets import PRESETS, Preset
from gecko.models.litellm.providers import ESCAPE_HATCH, LITELLM_PROVIDERS


@dataclass(frozen=True)
class Target:
    """A resolved model id."""

    model_id: str
    provider: str
    """The provider as Gecko names it (``openai``, ``zhipu``...); used in errors and rate limits."""
    model: str
    """The model name after the provider prefix."""
    litellm_model: str
    base_url: str | None = None
    preset: Preset | None = None

    def api_key(self, explicit: SecretStr | None) -> SecretStr | None:
        """The key for a call: the caller's, else the preset's environment variables.

        None lets litellm read its own standard variable for the provider.
        """
        if explicit is not None:
            return explicit
        preset = self.preset
        if preset is None:
            return None
        for name in preset.key_env:
            value = os.environ.get(name)
            if value:
                return SecretStr(value)
        if preset.key_required:
            raise ConfigurationError(
                f"no API key for {self.model_id!r}",
                hint=f"pass api_key=... or set {' or '.join(preset.key_env)}",
                provider=self.provider,
                model=self.model,
            )
        return SecretStr(preset.placeholder_key) if preset.placeholder_key else None


def resolve_target(model_id: str, *, base_url: str | None = None) -> Target:
    """Resolve ``model_id`` (``provider/model``) for litellm; raise ConfigurationError if malformed."""
    if not isinstance(model_id, str) or "/" not in model_id.strip("/"):
        raise ConfigurationError(
            f"model id must look like 'provider/model', got {model_id!r}",
            hint="e.g. 'openai/gpt-4o-mini', 'zhipu/glm-4-flash', 'ollama/llama3.1', "
            "'compatible/<model>' with base_url=..., or 'litellm/<any litellm model string>'",
        )
    prefix, _, rest = model_id.strip().partition("/")
    provider = prefix.lower()
    if not rest:
        raise ConfigurationError(f"model id {model_id!r} names no model after {prefix!r}/")
    if provider == ESCAPE_HATCH:
        first, _, tail = rest.partition("/")
        routed = first.lower() if tail and first.lower() in LITELLM_PROVIDERS else ESCAPE_HATCH
        return Target(
            model_id=model_id,
            provider=routed,
            model=tail if routed != ESCAPE_HATCH else rest,
            litellm_model=rest,
            base_url=base_url,
        )
    preset = PRESETS.get(provider)
    if preset is None:
        return Target(model_id, provider, rest, f"{provider}/{rest}", base_url)
    resolved_base = base_url or _first_env(preset.base_url_env) or preset.base_url
    if preset.requires_base_url and not resolved_base:
        raise ConfigurationError(
            f"{model_id!r} needs base_url=... (the server's OpenAI-compatible URL, e.g. "
            "'http://localhost:8000/v1')",
            provider=provider,
            model=rest,
        )
    return Target(
        model_id=model_id,
        provider=provider,
        model=rest,
        litellm_model=f"{preset.route}/{rest}",
        base_url=resolved_base,
        preset=preset,
    )


def _first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None
