"""The plugin module: hook implementations only, registering factories by name.

Nothing heavy is imported here: ``gecko plugins list`` loads this module, and the
store and tool modules are imported only when someone uses them.
"""

from __future__ import annotations

from typing import Any

from gecko.core.plugins import hookimpl


@hookimpl
def register_storage(register: Any) -> None:
    register("jsondir", "gecko_plugin_example.store:JsonDirStore.open", kind="kv")


@hookimpl
def register_tools(register: Any) -> None:
    register("word_count", "gecko_plugin_example.tools:word_count")
