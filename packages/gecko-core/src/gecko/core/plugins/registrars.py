"""The types of the ``register`` callbacks the ``register_*`` hooks receive.

Annotate a hook implementation's argument with one of these so that a type
checker (``mypy --strict``) checks every registration a plugin makes::

    from gecko.core.plugins import StorageRegistrar, hookimpl

    @hookimpl
    def register_storage(register: StorageRegistrar) -> None:
        register("weather", "gecko_weather.store:WeatherStore.open", kind="kv")

Names (schemes, providers, extensions) are one string or several; a factory is a
``"module:attr"`` string, imported the first time someone asks for the name, or
the object itself. The first two arguments are positional.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal, Protocol, TypeAlias, Union

StoreKind: TypeAlias = Literal["kv", "vector"]
"""``"kv"``: a SessionStore (and optionally CheckpointStore); ``"vector"``: a VectorStore."""

Factory: TypeAlias = Union[str, Callable[..., object]]
"""A ``"module:attr"`` string or a callable building the registered object."""

Names: TypeAlias = Union[str, Iterable[str]]
"""One name or several."""


class StorageRegistrar(Protocol):
    """``register(schemes, factory, *, kind="kv")``; factory: ``async (url, **options) -> store``.

    With a tuple of kinds (``kind=("kv", "vector")``) the factory receives ``kind=``.
    Schemes are matched case-insensitively.
    """

    def __call__(
        self,
        schemes: Names,
        factory: Factory,
        /,
        *,
        kind: StoreKind | Sequence[StoreKind] = "kv",
    ) -> None: ...


class ModelRegistrar(Protocol):
    """``register(providers, factory)``; factory: ``(model_id, **options) -> ChatModel``.

    ``model_id`` is the full ``provider/model`` string; providers are case-insensitive.
    """

    def __call__(self, providers: Names, factory: Factory, /) -> None: ...


class EmbedderRegistrar(Protocol):
    """``register(providers, factory)``; factory: ``(embedder_id, **options) -> Embedder``."""

    def __call__(self, providers: Names, factory: Factory, /) -> None: ...


class ToolRegistrar(Protocol):
    """``register(name, tool)``; tool: a Tool object, a ``(**options) -> Tool`` factory or a path."""

    def __call__(self, name: str, tool: object, /) -> None: ...


class GuardrailRegistrar(Protocol):
    """``register(name, factory)``; factory: ``(**options) -> Guardrail`` (or a ready guardrail)."""

    def __call__(self, name: str, guardrail: object, /) -> None: ...


class ReaderRegistrar(Protocol):
    """``register(extensions, factory)``; factory: ``(**options) -> document reader``.

    Extensions (``".md"``) are matched case-insensitively.
    """

    def __call__(self, extensions: Names, factory: Factory, /) -> None: ...


class RunnerRegistrar(Protocol):
    """``register(schemes, factory)``; factory: ``(url) -> Runner``.

    A runner executes workflows (``Workflow(runner="temporal://...")``); schemes are
    case-insensitive, and a bare name (``"local"``) is a scheme too.
    """

    def __call__(self, schemes: Names, factory: Factory, /) -> None: ...


class ExpressionFunctionRegistrar(Protocol):
    """``register(name, function)``; function: plain Python values in, a JSON-like value out.

    Declarative workflows' ``${...}`` CEL expressions can call it by name.
    """

    def __call__(self, name: str, function: Factory, /) -> None: ...


__all__ = [
    "EmbedderRegistrar",
    "ExpressionFunctionRegistrar",
    "Factory",
    "GuardrailRegistrar",
    "ModelRegistrar",
    "Names",
    "ReaderRegistrar",
    "RunnerRegistrar",
    "StorageRegistrar",
    "StoreKind",
    "ToolRegistrar",
]
