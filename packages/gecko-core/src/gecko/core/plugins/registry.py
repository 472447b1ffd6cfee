"""Registries built from the ``register_*`` hooks: name -> lazily imported factory.

A registry never picks silently: a name registered by two plugins is a conflict,
and looking it up raises a PluginConflictError naming both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from gecko.core.errors import (
    GeckoError,
    MissingDependencyError,
    NotRegisteredError,
    PluginConflictError,
    PluginError,
)

# What first-party distribution provides a name, for "pip install ..." hints.
FIRST_PARTY: dict[str, dict[str, str]] = {
    "storage": {
        "sqlite": "gecko-storage-sqlite",
        "redis": "gecko-storage-redis",
        "rediss": "gecko-storage-redis",
        "redis+unix": "gecko-storage-redis",
        "unix": "gecko-storage-redis",
        "chroma": "gecko-rag",
        "chroma+http": "gecko-rag",
        "chroma+https": "gecko-rag",
        "lancedb": "gecko-rag",
        "lancedb+s3": "gecko-rag",
        "lancedb+gs": "gecko-rag",
        "lancedb+az": "gecko-rag",
        "milvus": "gecko-rag",
        "milvus+http": "gecko-rag",
        "milvus+https": "gecko-rag",
    },
    "tools": {"knowledge_search": "gecko-rag"},
    "runners": {"local": "gecko-compose", "temporal": "gecko-temporal"},
}
# Any model or embedder provider we do not know is most likely a litellm provider.
FALLBACK_PROVIDER: dict[str, str] = {
    "models": "gecko-models-litellm",
    "embedders": "gecko-models-litellm",
}

CATEGORY_NOUN = {
    "storage": "storage scheme",
    "models": "model provider",
    "embedders": "embedder provider",
    "tools": "tool",
    "guardrails": "guardrail",
    "readers": "reader for extension",
    "runners": "workflow runner",
    "expression_functions": "expression function",
}


@dataclass
class Registration:
    """One name registered by one plugin."""

    category: str
    name: str
    target: str | Callable[..., Any] | Any
    plugin: str
    meta: dict[str, Any] = field(default_factory=dict)
    _loaded: Any = field(default=None, repr=False)

    def load(self) -> Any:
        """The registered object, importing a ``"module:attr"`` string on first use."""
        if self._loaded is None:
            self._loaded = (
                import_object(self.target, context=self.describe())
                if isinstance(self.target, str)
                else self.target
            )
        return self._loaded

    def describe(self) -> str:
        return f"{CATEGORY_NOUN.get(self.category, self.category)} {self.name!r} (plugin {self.plugin!r})"


def import_object(path: str, *, context: str = "") -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute.

    A MissingDependencyError (an optional extra not installed) passes through
    unchanged because it already says what to install; any other failure becomes
    a PluginError that says what was being loaded.
    """
    module_name, _, attr_path = path.partition(":")
    where = f" for {context}" if context else ""
    try:
        obj: Any = import_module(module_name)
        for part in filter(None, attr_path.split(".")):
            obj = getattr(obj, part)
    except MissingDependencyError:
        raise
    except Exception as exc:  # any import failure becomes a clear PluginError
        raise PluginError(
            f"cannot import {path!r}{where}: {type(exc).__name__}: {exc}",
            hint="check that the plugin and its dependencies are installed",
            target=path,
        ) from exc
    return obj


class Registry:
    """Names of one category (``storage``, ``models``...) mapped to registrations."""

    def __init__(self, category: str) -> None:
        self.category = category
        self.entries: dict[str, Registration] = {}
        self.conflicts: dict[str, list[Registration]] = {}
        self._lock = threading.Lock()

    @property
    def noun(self) -> str:
        return CATEGORY_NOUN.get(self.category, self.category)

    def add(self, registration: Registration) -> Registration | None:
        """Add a registration; return the existing one it conflicts with, if any."""
        with self._lock:
            existing = self.entries.get(registration.name)
            if existing is None:
                self.entries[registration.name] = registration
                return None
            self.conflicts.setdefault(registration.name, [existing]).append(registration)
            return existing

    def names(self) -> list[str]:
        return sorted(self.entries)

    def by_plugin(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for reg in self.entries.values():
            result.setdefault(reg.plugin, []).append(reg.name)
        for regs in self.conflicts.values():
            for reg in regs[1:]:
                result.setdefault(reg.plugin, []).append(reg.name)
        return result

    def get(self, name: str, *, failures: dict[str, str] | None = None) -> Registration:
        """The registration for ``name``, or a clear error saying what to install or fix."""
        if name in self.conflicts:
            plugins = ", ".join(repr(r.plugin) for r in self.conflicts[name])
            raise PluginConflictError(
                f"{self.noun} {name!r} is registered by more than one plugin: {plugins}",
                hint="uninstall one of them, or limit loading with GECKO_LOAD_PLUGINS",
                name=name,
                plugins=[r.plugin for r in self.conflicts[name]],
            )
        registration = self.entries.get(name)
        if registration is not None:
            return registration
        raise self._not_found(name, failures or {})

    def _not_found(self, name: str, failures: dict[str, str]) -> GeckoError:
        known = ", ".join(self.names()) or "none"
        provider = FIRST_PARTY.get(self.category, {}).get(name) or FALLBACK_PROVIDER.get(
            self.category
        )
        if provider is not None and provider in failures:
            return PluginError(
                f"{self.noun} {name!r} is provided by plugin {provider!r}, which failed to load: "
                f"{failures[provider]}",
                hint="run `gecko plugins list` to see the failure; reinstall the plugin or its dependencies",
                name=name,
                plugin=provider,
            )
        message = f"unknown {self.noun} {name!r}; installed: {known}"
        hint = None
        if provider is not None and (name in FIRST_PARTY.get(self.category, {})):
            hint = f"pip install {provider}"
        elif provider is not None and any(r.plugin == provider for r in self.entries.values()):
            hint = (
                f"if {name!r} is a provider a newer litellm supports, call it through the "
                f"escape hatch: 'litellm/{name}/<model>'"
            )
        elif provider is not None:
            hint = f"if {name!r} is a provider litellm supports: pip install {provider}"
        if failures:
            failed = "; ".join(f"{plugin}: {error}" for plugin, error in sorted(failures.items()))
            message += f" (plugins that failed to load and might provide it: {failed})"
        return NotRegisteredError(message, hint=hint, name=name, known=self.names())


def as_names(names: str | Iterable[str]) -> list[str]:
    """Accept one name or several; names are matched case-insensitively."""
    if isinstance(names, str):
        return [names.lower()]
    return [name.lower() for name in names]
