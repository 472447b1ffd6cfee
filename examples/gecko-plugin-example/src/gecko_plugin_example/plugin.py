"""The plugin module: hook implementations only, registering factories by name.

Nothing heavy is imported here: ``gecko plugins list`` loads this module, and the
store and tool modules are imported only when someone uses them.
"""

from __future__ import annotations

from gecko.core.plugins import StorageRegistrar, ToolRegistrar, hookimpl


@hookimpl
def register_storage(register: StorageRegistrar) -> None:
    register("jsondir", "gecko_plugin_example.store:JsonDirStore.open", kind="kv")


@hookimpl
def register_tools(register: ToolRegistrar) -> None:
    register("word_count", "gecko_plugin_example.tools:word_count")
