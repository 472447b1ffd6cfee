"""Provider shortcuts: a model id prefix, the route litellm takes, where the key comes from.

| prefix       | litellm route | base URL (default)                      | key (caller, else env)            |
|--------------|---------------|-----------------------------------------|-----------------------------------|
| `zhipu`      | `openai/`     | `https://open.bigmodel.cn/api/paas/v4`  | `ZHIPUAI_API_KEY`, `ZHIPU_API_KEY` |
| `ollama`     | `ollama_chat/`| `OLLAMA_API_BASE` or `localhost:11434`  | none                              |
| `deepseek`   | `deepseek/`   | litellm's default                       | `DEEPSEEK_API_KEY`                |
| `moonshot`   | `moonshot/`   | `MOONSHOT_API_BASE` or litellm's        | `MOONSHOT_API_KEY`                |
| `openrouter` | `openrouter/` | litellm's default                       | `OPENROUTER_API_KEY`              |
| `compatible` | `openai/`     | the `base_url` option (required)        | the caller only (else `EMPTY`)    |

Keys come from the caller (``api_key=``) or the standard environment variables
listed here, read at call time. There is never a default key in code. The
``ollama`` preset uses Ollama's chat API (``ollama_chat/``), which supports tools. The
``compatible`` preset never falls back to ``OPENAI_API_KEY``: an OpenAI key is
not sent to an arbitrary server.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """How a provider shortcut is called through litellm."""

    name: str
    route: str
    """The litellm provider prefix the model is called through."""
    description: str
    base_url: str | None = None
    """Default base URL; None leaves litellm's default for the route."""
    base_url_env: tuple[str, ...] = ()
    """Environment variables that override the default base URL, in order."""
    key_env: tuple[str, ...] = ()
    """Environment variables the key is read from when the caller gives none, in order."""
    key_required: bool = True
    requires_base_url: bool = False
    placeholder_key: str | None = None
    """Sent when no key is given (servers that ignore keys), so litellm never reads another."""


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="zhipu",
            route="openai",
            description="Zhipu GLM (glm-4-flash, glm-4-air, glm-4-plus...) via its OpenAI-compatible endpoint",
            base_url="https://open.bigmodel.cn/api/paas/v4",
            base_url_env=("ZHIPUAI_BASE_URL",),
            key_env=("ZHIPUAI_API_KEY", "ZHIPU_API_KEY"),
        ),
        Preset(
            name="ollama",
            route="ollama_chat",
            description="a local Ollama server through its chat API, with native tool calling "
            "(litellm's generate route stays reachable as litellm/ollama/<model>)",
            key_required=False,
        ),
        Preset(
            name="deepseek",
            route="deepseek",
            description="DeepSeek (deepseek-chat, deepseek-reasoner)",
            key_env=("DEEPSEEK_API_KEY",),
        ),
        Preset(
            name="moonshot",
            route="moonshot",
            description="Moonshot Kimi (set MOONSHOT_API_BASE=https://api.moonshot.cn/v1 in China)",
            key_env=("MOONSHOT_API_KEY",),
        ),
        Preset(
            name="openrouter",
            route="openrouter",
            description="OpenRouter (openrouter/anthropic/claude-3.5-sonnet, ...)",
            key_env=("OPENROUTER_API_KEY",),
        ),
        Preset(
            name="compatible",
            route="openai",
            description="any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, a gateway) at base_url",
            key_required=False,
            requires_base_url=True,
            placeholder_key="EMPTY",
        ),
    )
}
