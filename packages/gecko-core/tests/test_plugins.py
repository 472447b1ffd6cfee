"""The plugin system: registration, conflicts, isolation of failures, lazy factories."""

from __future__ import annotations

from typing import Any

import pytest

from gecko.core.errors import (
    ConfigurationError,
    NotRegisteredError,
    PluginConflictError,
    PluginError,
)
from gecko.core.factories import create_embedder, create_model, create_storage, create_tool
from gecko.core.plugins import get_plugin_manager, hookimpl
from gecko.core.storage.memory import MemoryStore

pytestmark = pytest.mark.anyio


async def open_memory(url: str, **options: Any) -> MemoryStore:
    return MemoryStore()


class SchemePlugin:
    def __init__(self, *schemes: str) -> None:
        self.schemes = schemes

    @hookimpl
    def register_storage(self, register: Any) -> None:
        register(list(self.schemes), open_memory)


class RaisingPlugin:
    @hookimpl
    def register_storage(self, register: Any) -> None:
        raise RuntimeError("boom in hook")

    @hookimpl
    def register_models(self, register: Any) -> None:
        register("raiser", lambda model_id, **kw: model_id)


def test_core_builtin_plugin_is_listed_with_its_registrations() -> None:
    infos = {info.name: info for info in get_plugin_manager().list_plugins()}
    core = infos["gecko-core"]
    assert core.status == "ok"
    assert core.registers["storage"] == ["memory"]
    assert core.registers["models"] == ["test"]
    assert core.registers["embedders"] == ["hash"]
    assert "register_storage" in core.hooks


async def test_programmatic_registration_and_unregistration(gecko_plugin: Any) -> None:
    name = gecko_plugin(SchemePlugin("weather"), name="weather-plugin")
    store = await create_storage("weather://anything")
    await store.set("k", {"v": 1})
    assert await store.get("k") == {"v": 1}
    info = next(i for i in get_plugin_manager().list_plugins() if i.name == name)
    assert info.source == "programmatic" and info.registers == {"storage": ["weather"]}
    get_plugin_manager().unregister(name)
    with pytest.raises(NotRegisteredError):
        await create_storage("weather://anything")


async def test_scheme_registered_twice_is_an_error_naming_both(gecko_plugin: Any) -> None:
    gecko_plugin(SchemePlugin("dup", "solo-a"), name="plugin-a")
    gecko_plugin(SchemePlugin("dup"), name="plugin-b")
    with pytest.raises(PluginConflictError) as info:
        await create_storage("dup://x")
    assert "plugin-a" in str(info.value) and "plugin-b" in str(info.value)
    # the rest of both plugins keeps working
    assert isinstance(await create_storage("solo-a://x"), MemoryStore)
    statuses = {i.name: i.status for i in get_plugin_manager().list_plugins()}
    assert "also registered by plugin 'plugin-b'" in statuses["plugin-a"]
    assert "also registered by plugin 'plugin-a'" in statuses["plugin-b"]


async def test_hook_that_raises_is_recorded_and_isolated(gecko_plugin: Any) -> None:
    gecko_plugin(RaisingPlugin(), name="raiser")
    assert isinstance(await create_storage("memory://"), MemoryStore)
    assert create_model("raiser/x") == "raiser/x"  # its other hook still registered
    info = next(i for i in get_plugin_manager().list_plugins() if i.name == "raiser")
    assert info.status.startswith("error:") and "boom in hook" in info.status


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"kind": "kvv"}, "'kvv'"), ({"kind": ()}, "()"), ({"kinds": "kv"}, "'kinds'")],
    ids=["unknown-kind", "no-kind", "unknown-option"],
)
async def test_bad_storage_registration_is_recorded(
    gecko_plugin: Any, options: dict[str, Any], problem: str
) -> None:
    class BadKind:
        @hookimpl
        def register_storage(self, register: Any) -> None:
            register("badkind", open_memory, **options)

    gecko_plugin(BadKind(), name="bad-kind")
    with pytest.raises(NotRegisteredError):
        await create_storage("badkind://x")
    info = next(i for i in get_plugin_manager().list_plugins() if i.name == "bad-kind")
    assert "register_storage raised ConfigurationError" in info.status
    assert problem in info.status


async def test_string_factories_import_only_on_use(gecko_plugin: Any) -> None:
    class LazyPlugin:
        @hookimpl
        def register_storage(self, register: Any) -> None:
            register("lazy", "gecko_no_such_module_xyz.store:Store.open")

    gecko_plugin(LazyPlugin(), name="lazy-plugin")
    info = next(i for i in get_plugin_manager().list_plugins() if i.name == "lazy-plugin")
    assert info.status == "ok" and info.registers == {"storage": ["lazy"]}
    with pytest.raises(PluginError) as error:
        await create_storage("lazy://x")
    assert "gecko_no_such_module_xyz" in str(error.value) and "lazy-plugin" in str(error.value)


async def test_unknown_scheme_lists_installed_schemes() -> None:
    with pytest.raises(NotRegisteredError) as info:
        await create_storage("nosuchscheme://x")
    assert "nosuchscheme" in str(info.value) and "memory" in str(info.value)


def test_unknown_model_provider_suggests_litellm_plugin() -> None:
    with pytest.raises(NotRegisteredError) as info:
        create_model("nosuchprovider/some-model")
    assert "nosuchprovider" in str(info.value) and "test" in str(info.value)


def test_tools_and_embedders_resolve_through_registry(gecko_plugin: Any) -> None:
    class EchoTool:
        name = "echo"
        description = "Echo the text back."
        parameters = {"type": "object", "properties": {"text": {"type": "string"}}}

        async def execute(self, arguments: dict[str, Any]) -> Any:
            return arguments["text"]

    ready = EchoTool()

    class ToolPlugin:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            register("echo", ready)
            register("make_echo", lambda **options: EchoTool())

    gecko_plugin(ToolPlugin(), name="tool-plugin")
    assert create_tool("echo") is ready
    assert isinstance(create_tool("make_echo"), EchoTool)
    assert create_embedder("hash/12").dimension == 12


def test_factory_options_that_do_not_fit_name_the_parameters(gecko_plugin: Any) -> None:
    def make_tool(*, index: str, top_k: int = 3) -> Any:
        raise AssertionError("not reached")

    class NeedsOptions:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            register("needs_index", make_tool)

    gecko_plugin(NeedsOptions(), name="needs-options")
    with pytest.raises(ConfigurationError) as info:
        create_tool("needs_index")
    assert "needs-options" in str(info.value) and "required options: index" in str(info.value)
