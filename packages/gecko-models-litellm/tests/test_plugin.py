"""Registration, lazy import of litellm, provider drift, offline behaviour, id resolution."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from gecko.core.errors import ConfigurationError, GeckoError
from gecko.core.factories import create_embedder, create_model
from gecko.core.message import Message
from gecko.core.plugins.manager import get_plugin_manager
from gecko.models.litellm.chat import LiteLLMChatModel
from gecko.models.litellm.embedder import LiteLLMEmbedder
from gecko.models.litellm.plugin import provider_names
from gecko.models.litellm.presets import PRESETS
from gecko.models.litellm.providers import LITELLM_PROVIDERS
from gecko.models.litellm.runtime import litellm_module
from gecko.models.litellm.target import resolve_target


def _run(code: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_plugin_and_listing_never_import_litellm() -> None:
    report = _run(
        """
        import io, json, sys
        from contextlib import redirect_stdout
        import gecko.models.litellm.plugin
        from gecko.core.cli.main import cli
        from gecko.core.factories import create_embedder, create_model
        out = io.StringIO()
        with redirect_stdout(out):
            try:
                cli.main(["plugins", "list"], standalone_mode=False)
            except SystemExit:
                pass
        model = create_model("openai/gpt-4o-mini", api_key="sk-x")
        tools = model.supports_tools
        embedder = create_embedder("openai/text-embedding-3-small")
        print(json.dumps({
            "litellm": "litellm" in sys.modules,
            "listing": out.getvalue(),
            "tools": tools,
            "dimension": embedder.dimension,
        }))
        """
    )
    assert report["litellm"] is False
    assert "gecko-models-litellm" in report["listing"]
    assert report["tools"] is True
    assert report["dimension"] == 1536


def test_importing_litellm_and_counting_tokens_stay_offline() -> None:
    report = _run(
        """
        import json, os, socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(repr(args[:2]))
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from gecko.core.message import Message
        from gecko.models.litellm.chat import LiteLLMChatModel
        from gecko.models.litellm.runtime import litellm_module
        litellm_module()
        counts = {}
        for model_id in ["openai/gpt-4o", "openai/gpt-3.5-turbo", "anthropic/claude-2.1",
                         "ollama/llama-3-8b-instruct", "cohere/command-r",
                         "replicate/meta/llama-2-70b-chat", "zhipu/glm-4-flash"]:
            model = LiteLLMChatModel(model_id, api_key="unused")
            counts[model_id] = model.count_tokens([Message.user("How many tokens is this?")])
        print(json.dumps({"attempts": attempts, "counts": counts,
                          "cost_map": os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP")}))
        """
    )
    assert report["attempts"] == []
    assert all(count > 5 for count in report["counts"].values()), report["counts"]
    assert report["cost_map"] == "True"


def test_every_installed_litellm_provider_is_reachable() -> None:
    """Whatever litellm release is installed, each of its providers routes through Gecko.

    Providers in the tuple by their own prefix; one litellm added after the tuple was
    taken through the ``litellm/`` escape hatch. (The tuple's drift from a newer litellm
    is reported by ``hatch run deps:upgrade``, not by a failing test.)
    """
    litellm = litellm_module()
    installed = {str(getattr(p, "value", p)) for p in litellm.provider_list}
    assert len(LITELLM_PROVIDERS) == len(set(LITELLM_PROVIDERS))
    for provider in sorted(installed):
        hatch = resolve_target(f"litellm/{provider}/some-model")
        assert hatch.litellm_model == f"{provider}/some-model"
        if provider in LITELLM_PROVIDERS:
            assert hatch.provider == provider and hatch.model == "some-model"
            if provider in PRESETS:
                continue  # a preset routes its own way (ollama -> ollama_chat, ...)
            direct = resolve_target(f"{provider}/some-model")
            assert direct.litellm_model == f"{provider}/some-model"
        else:
            assert hatch.provider == "litellm" and hatch.model == f"{provider}/some-model"


def test_an_unknown_provider_is_refused_with_the_escape_hatch_named() -> None:
    with pytest.raises(GeckoError, match="unknown model provider") as info:
        create_model("no-such-provider-xyz/model")
    assert "'litellm/no-such-provider-xyz/<model>'" in str(info.value.hint)


def test_registered_providers() -> None:
    models = get_plugin_manager().registry("models")
    embedders = get_plugin_manager().registry("embedders")
    for name in ("openai", "anthropic", "ollama", "zhipu", "compatible", "litellm", "deepseek"):
        assert models.get(name).plugin == "gecko-models-litellm"
        assert embedders.get(name).plugin == "gecko-models-litellm"
    assert set(provider_names()) >= set(LITELLM_PROVIDERS) | set(PRESETS)
    assert models.get("test").plugin == "gecko-core"  # core's offline model is untouched


def test_factories_build_litellm_models() -> None:
    model = create_model("OpenAI/gpt-4o-mini", api_key="sk-x", temperature=0)
    assert isinstance(model, LiteLLMChatModel)
    assert model.target.litellm_model == "openai/gpt-4o-mini"
    assert model.options == {"temperature": 0}
    embedder = create_embedder("openai/text-embedding-3-small", batch_size=16)
    assert isinstance(embedder, LiteLLMEmbedder) and embedder.batch_size == 16


def test_model_ids_resolve_to_litellm_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    zhipu = resolve_target("zhipu/glm-4-flash")
    assert zhipu.litellm_model == "openai/glm-4-flash"
    assert zhipu.base_url == "https://open.bigmodel.cn/api/paas/v4"
    monkeypatch.delenv("ZHIPUAI_API_KEY", raising=False)
    monkeypatch.setenv("ZHIPU_API_KEY", "zk-1234")
    assert zhipu.api_key(None).get_secret_value() == "zk-1234"  # type: ignore[union-attr]
    monkeypatch.delenv("ZHIPU_API_KEY")
    with pytest.raises(ConfigurationError, match="ZHIPUAI_API_KEY"):
        zhipu.api_key(None)

    assert resolve_target("ollama/llama3.1").litellm_model == "ollama_chat/llama3.1"
    assert resolve_target("ollama/llama3.1").api_key(None) is None
    assert resolve_target("deepseek/deepseek-chat").litellm_model == "deepseek/deepseek-chat"
    anthropic = resolve_target("anthropic/claude-3-5-haiku-latest")
    assert (anthropic.provider, anthropic.model) == ("anthropic", "claude-3-5-haiku-latest")
    assert anthropic.api_key(None) is None  # litellm reads ANTHROPIC_API_KEY itself
    hatch = resolve_target("litellm/gpt-4o-mini")
    assert (hatch.provider, hatch.litellm_model) == ("litellm", "gpt-4o-mini")
    nested = resolve_target("openrouter/anthropic/claude-3.5-sonnet")
    assert nested.model == "anthropic/claude-3.5-sonnet"

    with pytest.raises(ConfigurationError, match="base_url"):
        resolve_target("compatible/qwen2.5")
    for bad in ("gpt-4o", "openai/", "/gpt-4o", ""):
        with pytest.raises(ConfigurationError):
            resolve_target(bad)


def test_options_gecko_controls_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="num_retries"):
        create_model("openai/gpt-4o-mini", num_retries=5)
    with pytest.raises(ConfigurationError, match="timeout"):
        create_model("openai/gpt-4o-mini", timeout=0)
    with pytest.raises(ConfigurationError):
        create_model("openai/gpt-4o-mini", base_url="http://a/v1", api_base="http://b/v1")


def test_no_default_key_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    for preset in PRESETS.values():
        for name in preset.key_env:
            monkeypatch.delenv(name, raising=False)
    for name, preset in PRESETS.items():
        target = resolve_target(f"{name}/m", base_url="http://127.0.0.1:9/v1")
        key = None if preset.key_required else target.api_key(None)
        assert key is None or key.get_secret_value() == "EMPTY"


@pytest.mark.anyio
async def test_count_tokens_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    litellm_module()

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    model = LiteLLMChatModel("ollama/llama-3-70b", api_key="unused")
    assert model.count_tokens([Message.user("hello there")]) > 0
