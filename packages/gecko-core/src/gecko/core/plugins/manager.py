"""Loads plugins from the ``gecko`` entry-point group and builds registries from their hooks.

Each entry point is loaded in its own ``try``: a failure is recorded on that
plugin (``gecko plugins list`` shows it) and never breaks core or another
plugin. ``GECKO_LOAD_PLUGINS`` selects plugins: unset loads all installed
plugins, an empty string loads none, a comma list loads only those. gecko-core's
own built-in plugin is always loaded.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from gecko.core.errors import ConfigurationError
from gecko.core.plugins import hookspecs
from gecko.core.plugins.discovery import entry_points
from gecko.core.plugins.registry import Registration, Registry, as_names

if TYPE_CHECKING:
    from gecko.core.plugins.registrars import (
        EmbedderRegistrar,
        ExpressionFunctionRegistrar,
        GuardrailRegistrar,
        ModelRegistrar,
        ReaderRegistrar,
        RunnerRegistrar,
        StorageRegistrar,
        ToolRegistrar,
    )

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "gecko"
STORE_KINDS = ("kv", "vector")
CORE_PLUGIN = "gecko-core"
CATEGORIES = (
    "storage",
    "models",
    "embedders",
    "tools",
    "guardrails",
    "readers",
    "runners",
    "expression_functions",
)
_CASE_INSENSITIVE = {"storage", "models", "embedders", "readers", "runners"}


@dataclass
class PluginInfo:
    """What ``gecko plugins list`` shows for one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    source: str = "entry point"
    hooks: list[str] = field(default_factory=list)
    registers: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "ok" if not self.errors else "error: " + "; ".join(self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "source": self.source,
            "hooks": self.hooks,
            "registers": self.registers,
            "status": self.status,
            "errors": self.errors,
        }


class GeckoPluginManager:
    """The process-wide plugin host: a pluggy manager plus lazily built registries."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("gecko")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.warnings: list[str] = []
        self._registries: dict[str, Registry] = {}
        self._commands: dict[str, list[str]] = {}
        self._lock = threading.RLock()
        self._loaded = False

    # --- loading ------------------------------------------------------------------

    def load_entry_points(self) -> None:
        """Load every selected entry point of the ``gecko`` group (once)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            selected = _selected_plugins()
            seen: set[str] = set()
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                if ep.name in seen:
                    continue  # the same distribution visible twice on sys.path
                seen.add(ep.name)
                if selected is not None and ep.name not in selected and ep.name != CORE_PLUGIN:
                    continue
                info = PluginInfo(
                    name=ep.name, distribution=ep.distribution, version=ep.version, module=ep.value
                )
                self.plugins[ep.name] = info
                try:
                    module = ep.load()
                    self.pm.register(module, name=ep.name)
                except Exception as exc:  # isolate every plugin
                    info.errors.append(f"failed to load: {type(exc).__name__}: {exc}")
                    logger.warning("gecko plugin %r failed to load: %s", ep.name, exc)
                    continue
                info.hooks = self._hook_names(ep.name)
            if selected is not None:
                for name in sorted(selected - seen):
                    message = f"GECKO_LOAD_PLUGINS names {name!r}, which is not installed"
                    self.warnings.append(message)
                    logger.warning(message)
            self._invalidate()

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object (a module or class with ``@hookimpl`` functions)."""
        self.load_entry_points()
        with self._lock:
            plugin_name = self.pm.register(plugin, name=name)
            if plugin_name is None:  # pluggy returns None for a blocked name
                raise ValueError(f"plugin name {name!r} is blocked")
            self.plugins[plugin_name] = PluginInfo(
                name=plugin_name,
                module=getattr(plugin, "__name__", type(plugin).__name__),
                source="programmatic",
                hooks=self._hook_names(plugin_name),
            )
            self._invalidate()
            return plugin_name

    def unregister(self, name: str) -> None:
        with self._lock:
            self.pm.unregister(name=name)
            self.plugins.pop(name, None)
            self._invalidate()

    def _hook_names(self, plugin_name: str) -> list[str]:
        plugin = self.pm.get_plugin(plugin_name)
        callers = self.pm.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)

    def _invalidate(self) -> None:
        self._registries.clear()
        for name, info in self.plugins.items():
            info.registers = {"commands": self._commands[name]} if name in self._commands else {}
            info.errors = [
                e for e in info.errors if e.startswith(("failed to load", "register_commands"))
            ]

    # --- registries ------------------------------------------------------------------

    def registry(self, category: str) -> Registry:
        """The registry of ``category``, built from the ``register_<category>`` hooks."""
        self.load_entry_points()
        with self._lock:
            registry = self._registries.get(category)
            if registry is None:
                registry = self._build(category)
                self._registries[category] = registry
            return registry

    def build_all(self) -> None:
        for category in CATEGORIES:
            self.registry(category)

    def _build(self, category: str) -> Registry:
        registry = Registry(category)
        hook = getattr(self.pm.hook, f"register_{category}")
        lower = category in _CASE_INSENSITIVE
        for impl in hook.get_hookimpls():  # in registration order
            plugin = impl.plugin_name
            register = _Register(self, registry, plugin, lower=lower)
            try:
                impl.function(**({"register": register} if "register" in impl.argnames else {}))
            except Exception as exc:  # a broken hook never breaks the rest
                self._record_error(
                    plugin, f"register_{category} raised {type(exc).__name__}: {exc}"
                )
                logger.warning("gecko plugin %r: register_%s raised %s", plugin, category, exc)
        for plugin, names in registry.by_plugin().items():
            if plugin in self.plugins:
                self.plugins[plugin].registers[category] = sorted(set(names))
        return registry

    def add_commands(self, cli: Any) -> None:
        """Let every plugin add subcommands to ``cli``; a failing plugin is recorded, not fatal."""
        self.load_entry_points()
        for impl in self.pm.hook.register_commands.get_hookimpls():
            before = set(getattr(cli, "commands", {}))
            try:
                impl.function(**({"cli": cli} if "cli" in impl.argnames else {}))
            except Exception as exc:  # a broken plugin never breaks the CLI
                self._record_error(
                    impl.plugin_name, f"register_commands raised {type(exc).__name__}: {exc}"
                )
                logger.warning(
                    "gecko plugin %r: register_commands raised %s", impl.plugin_name, exc
                )
                continue
            added = sorted(set(getattr(cli, "commands", {})) - before)
            info = self.plugins.get(impl.plugin_name)
            if info is not None and added:
                self._commands[impl.plugin_name] = added
                info.registers["commands"] = added

    def _record_error(self, plugin: str, message: str) -> None:
        info = self.plugins.get(plugin)
        if info is not None and message not in info.errors:
            info.errors.append(message)

    def failures(self) -> dict[str, str]:
        """Plugins that failed to load, with their error."""
        self.load_entry_points()
        return {
            name: "; ".join(info.errors)
            for name, info in self.plugins.items()
            if any(e.startswith("failed to load") for e in info.errors)
        }

    def lookup(self, category: str, name: str) -> Registration:
        return self.registry(category).get(name, failures=self.failures())

    def list_plugins(self) -> list[PluginInfo]:
        """Every plugin with hooks, registrations and status (builds all registries)."""
        self.build_all()
        return sorted(self.plugins.values(), key=lambda info: (info.name != CORE_PLUGIN, info.name))


class _Register:
    """The ``register`` callback one plugin's ``register_<category>`` hook receives.

    One class serves every category; the protocols in ``registrars`` describe the
    signature each hook documents (checked statically below).
    """

    def __init__(
        self, manager: GeckoPluginManager, registry: Registry, plugin: str, *, lower: bool
    ) -> None:
        self._manager = manager
        self._registry = registry
        self._plugin = plugin
        self._lower = lower

    def __call__(self, names: str | Iterable[str], factory: object, /, **meta: Any) -> None:
        registry, plugin = self._registry, self._plugin
        if registry.category == "storage":
            _check_storage_meta(meta)
        for name in as_names(names) if self._lower else _as_list(names):
            clash = registry.add(Registration(registry.category, name, factory, plugin, meta))
            if clash is not None:
                self._manager._record_error(
                    plugin,
                    f"{registry.noun} {name!r} is also registered by plugin {clash.plugin!r}",
                )
                self._manager._record_error(
                    clash.plugin,
                    f"{registry.noun} {name!r} is also registered by plugin {plugin!r}",
                )


if TYPE_CHECKING:  # mypy proves the real callback accepts every documented call

    def _conforms(
        register: _Register,
    ) -> tuple[
        StorageRegistrar,
        ModelRegistrar,
        EmbedderRegistrar,
        ToolRegistrar,
        GuardrailRegistrar,
        ReaderRegistrar,
        RunnerRegistrar,
        ExpressionFunctionRegistrar,
    ]:
        return (register, register, register, register, register, register, register, register)


def _check_storage_meta(meta: dict[str, Any]) -> None:
    """A storage registration takes only ``kind``: "kv", "vector" or a sequence of them."""
    unknown = sorted(set(meta) - {"kind"})
    if unknown:
        raise ConfigurationError(
            f"register_storage got unknown option(s) {unknown}",
            hint='register(schemes, factory, kind="kv" | "vector" | ("kv", "vector"))',
        )
    kind = meta.get("kind", "kv")
    kinds = [kind] if isinstance(kind, str) else kind
    if not isinstance(kinds, (list, tuple)) or not kinds or not set(kinds) <= set(STORE_KINDS):
        raise ConfigurationError(
            f"storage kind {kind!r} is not one of {list(STORE_KINDS)} or a sequence of them",
            hint='"kv" for a SessionStore (and CheckpointStore), "vector" for a VectorStore',
        )


def _as_list(names: Any) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def _selected_plugins() -> set[str] | None:
    value = os.environ.get("GECKO_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


_manager: GeckoPluginManager | None = None
_manager_lock = threading.Lock()


def get_plugin_manager() -> GeckoPluginManager:
    """The process-wide plugin manager, with entry points loaded."""
    global _manager
    if _manager is None:
        with _manager_lock:
            if _manager is None:
                _manager = GeckoPluginManager()
    _manager.load_entry_points()
    return _manager


def reset_plugin_manager() -> None:
    """Forget loaded plugins; the next use re-reads entry points and GECKO_LOAD_PLUGINS."""
    global _manager
    with _manager_lock:
        _manager = None


def register_plugin(plugin: object, name: str | None = None) -> str:
    """Register a plugin object for this process (applications and tests)."""
    return get_plugin_manager().register(plugin, name=name)


def unregister_plugin(name: str) -> None:
    get_plugin_manager().unregister(name)


@contextmanager
def plugin_registered(plugin: object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` for the duration of a ``with`` block."""
    plugin_name = register_plugin(plugin, name=name)
    try:
        yield plugin_name
    finally:
        unregister_plugin(plugin_name)
