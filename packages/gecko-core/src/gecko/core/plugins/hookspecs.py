"""The hooks a Gecko plugin can implement.

Hooks are synchronous and only register things, each through a ``register``
callback; what they register carries the async API. A factory is a
``"module:attr"`` string (imported on first use) or a callable, so listing
plugins never imports a heavy dependency.

    from gecko import hookimpl

    @hookimpl
    def register_storage(register):
        register("weather", "gecko_weather.store:WeatherStore.open")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

hookspec = pluggy.HookspecMarker("gecko")
hookimpl = pluggy.HookimplMarker("gecko")


@hookspec
def register_storage(register: Any) -> None:
    """``register(schemes, factory, *, kind="kv" | "vector")``; factory: ``async (url, **options) -> store``."""


@hookspec
def register_models(register: Any) -> None:
    """``register(providers, factory)``; factory: ``(model_id, **options) -> ChatModel``."""


@hookspec
def register_embedders(register: Any) -> None:
    """``register(providers, factory)``; factory: ``(embedder_id, **options) -> Embedder``."""


@hookspec
def register_tools(register: Any) -> None:
    """``register(name, factory)``; factory: a Tool, or ``(**options) -> Tool``."""


@hookspec
def register_guardrails(register: Any) -> None:
    """``register(name, factory)``; factory: ``(**options) -> Guardrail``."""


@hookspec
def register_readers(register: Any) -> None:
    """``register(extensions, factory)``; factory: ``(**options) -> document reader``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``gecko`` command line (a click group)."""
