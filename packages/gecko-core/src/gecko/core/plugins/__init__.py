"""Gecko's plugin system: pluggy hookspecs, entry-point loading, registries.

Plugin authors need ``hookimpl`` and the protocols typing each hook's ``register``
callback (``StorageRegistrar``, ``ModelRegistrar``, ``EmbedderRegistrar``,
``ToolRegistrar``, ``GuardrailRegistrar``, ``ReaderRegistrar``, ``RunnerRegistrar``, ``ExpressionFunctionRegistrar``);
applications and tests can register plugin objects with ``register_plugin`` or ``plugin_registered``.
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
from gecko.core.plugins.registrars import (
    EmbedderRegistrar,
    ExpressionFunctionRegistrar,
    GuardrailRegistrar,
    ModelRegistrar,
    ReaderRegistrar,
    RunnerRegistrar,
    StorageRegistrar,
    StoreKind,
    ToolRegistrar,
)
from gecko.core.plugins.registry import Registration, Registry, import_object

__all__ = [
    "ENTRY_POINT_GROUP",
    "EmbedderRegistrar",
    "ExpressionFunctionRegistrar",
    "GeckoPluginManager",
    "GuardrailRegistrar",
    "ModelRegistrar",
    "PluginInfo",
    "ReaderRegistrar",
    "RunnerRegistrar",
    "Registration",
    "Registry",
    "StorageRegistrar",
    "StoreKind",
    "ToolRegistrar",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "import_object",
    "plugin_registered",
    "register_plugin",
    "reset_plugin_manager",
    "unregister_plugin",
]
