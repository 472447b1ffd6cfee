"""The hooks a Gecko plugin can implement.

Hooks are synchronous and only register things, each through a ``register``
callback; what they register carries the async API. A factory is a
``"module:attr"`` string (imported on first use) or a callable, so listing
plugins never imports a heavy dependency.

    from gecko.core.plugins import StorageRegistrar, hookimpl

    @hookimpl
    def register_storage(register: StorageRegistrar) -> None:
        register("weather", "gecko_weather.store:WeatherStore.open")

Each ``register`` argument is typed by a protocol from
``gecko.core.plugins.registrars``, so ``mypy --strict`` checks a plugin's calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

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

if TYPE_CHECKING:
    import click

hookspec = pluggy.HookspecMarker("gecko")
hookimpl = pluggy.HookimplMarker("gecko")


@hookspec
def register_storage(register: StorageRegistrar) -> None:
    """``register(schemes, factory, *, kind="kv" | "vector")``; factory: ``async (url, **options) -> store``."""


@hookspec
def register_models(register: ModelRegistrar) -> None:
    """``register(providers, factory)``; factory: ``(model_id, **options) -> ChatModel``."""


@hookspec
def register_embedders(register: EmbedderRegistrar) -> None:
    """``register(providers, factory)``; factory: ``(embedder_id, **options) -> Embedder``."""


@hookspec
def register_tools(register: ToolRegistrar) -> None:
    """``register(name, factory)``; factory: a Tool, or ``(**options) -> Tool``."""


@hookspec
def register_guardrails(register: GuardrailRegistrar) -> None:
    """``register(name, factory)``; factory: ``(**options) -> Guardrail``."""


@hookspec
def register_readers(register: ReaderRegistrar) -> None:
    """``register(extensions, factory)``; factory: ``(**options) -> document reader``."""


@hookspec
def register_runners(register: RunnerRegistrar) -> None:
    """``register(schemes, factory)``; factory: ``(url) -> Runner`` (see ``gecko.compose.runners``)."""


@hookspec
def register_expression_functions(register: ExpressionFunctionRegistrar) -> None:
    """``register(name, function)``: a function ``${...}`` workflow expressions may call."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``gecko`` command line (a click group)."""
