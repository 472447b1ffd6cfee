"""Gecko's plugin system: pluggy hookspecs, entry-point loading, registries.

Plugin authors need only ``hookimpl`` (also available as ``gecko.hookimpl``);
applications and tests can register plugin objects with ``register_plugin``.
"""

from __future__ import annotations

from gecko.core.plugins.hookspecs import hookimpl, hookspec
from gecko.core.plugins.manager import (
    ENTRY_POINT_GROUP,
    GeckoPluginManager,
    PluginInfo,
    get_plugin_manager,
    plugin_registered,
    register_plugin,
    reset_plugin_manager,
    unregister_plugin,
)
from gecko.core.plugins.registry import Registration, Registry, import_object

__all__ = [
    "ENTRY_POINT_GROUP",
    "GeckoPluginManager",
    "PluginInfo",
    "Registration",
    "Registry",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "import_object",
    "plugin_registered",
    "register_plugin",
    "reset_plugin_manager",
    "unregister_plugin",
]
