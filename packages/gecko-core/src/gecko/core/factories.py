"""Create stores, models, embedders and tools by URL or id, through what plugins registered.

store = await create_storage("sqlite:///./app.db")
model = create_model("openai/gpt-4o-mini", temperature=0)
embedder = create_embedder("hash/256")
"""

from __future__ import annotations

import inspect
from typing import Any

from gecko.core.errors import ConfigurationError, NotRegisteredError
from gecko.core.plugins.manager import get_plugin_manager
from gecko.core.storage.url import redact_url, url_scheme

StorageKind = str
"""``"kv"`` (SessionStore and CheckpointStore) or ``"vector"`` (VectorStore)."""


async def create_storage(url: str, *, kind: StorageKind | None = None, **options: Any) -> Any:
    """Open the store registered for ``url``'s scheme and return it, opened.

    ``kind`` picks the store kind when a scheme provides several (``memory://``
    is both a key-value and a vector store; without ``kind`` it opens the first
    kind it registered, ``"kv"``). Asking a scheme for a kind it does not provide
    is an error that says which kinds it has.
    """
    scheme = url_scheme(url)
    registration = get_plugin_manager().lookup("storage", scheme)
    declared = registration.meta.get("kind", "kv")
    kinds = (declared,) if isinstance(declared, str) else tuple(declared)
    if kind is not None and kind not in kinds:
        raise ConfigurationError(
            f"{scheme}:// provides {' and '.join(kinds)} storage, not {kind!r} "
            f"(url {redact_url(url)!r})",
            hint="use a key-value store (memory://, sqlite://, redis://) for sessions and "
            "checkpoints, and a vector store (chroma://, lancedb://, milvus://) for RAG",
            scheme=scheme,
        )
    factory = registration.load()
    if len(kinds) > 1:
        options["kind"] = kind or kinds[0]
    store = factory(url, **options)
    if inspect.isawaitable(store):
        store = await store
    return store


def storage_kinds(url: str) -> tuple[str, ...]:
    """The kinds of store registered for ``url``'s scheme."""
    registration = get_plugin_manager().lookup("storage", url_scheme(url))
    declared = registration.meta.get("kind", "kv")
    return (declared,) if isinstance(declared, str) else tuple(declared)


def create_model(model_id: str, **options: Any) -> Any:
    """A ChatModel for ``provider/model`` (e.g. ``openai/gpt-4o-mini``, ``test``)."""
    provider = _provider(model_id, "model")
    factory = get_plugin_manager().lookup("models", provider).load()
    return factory(model_id, **options)


def create_embedder(embedder_id: str, **options: Any) -> Any:
    """An Embedder for ``provider/model`` (e.g. ``openai/text-embedding-3-small``, ``hash/256``)."""
    provider = _provider(embedder_id, "embedder")
    factory = get_plugin_manager().lookup("embedders", provider).load()
    return factory(embedder_id, **options)


def create_tool(name: str, **options: Any) -> Any:
    """The tool registered as ``name``; ``options`` go to its factory."""
    return create_registered("tools", name, **options)


def create_registered(category: str, name: str, **options: Any) -> Any:
    """Instantiate what a plugin registered: a ready object is returned as is, a factory is called."""
    registration = get_plugin_manager().lookup(category, name)
    target = registration.load()
    if callable(target) and not _is_ready_object(target):
        _check_options(target, options, registration.describe())
        return target(**options)
    if options:
        raise ConfigurationError(
            f"{category} entry {name!r} is a ready object and takes no options",
            name=name,
            options=sorted(options),
        )
    return target


def _check_options(factory: Any, options: dict[str, Any], what: str) -> None:
    """Fail with the factory's parameters named, not a bare TypeError, when options do not fit."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    try:
        signature.bind(**options)
    except TypeError as exc:
        required = [
            p.name
            for p in signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        raise ConfigurationError(
            f"{what}: {exc}",
            hint=f"required options: {', '.join(required) or 'none'}; "
            f"accepted: {', '.join(signature.parameters) or 'none'}",
        ) from exc


def _is_ready_object(target: Any) -> bool:
    # A Tool instance may itself be callable; it is used as is.
    return not inspect.isclass(target) and hasattr(target, "execute") and hasattr(target, "name")


def _provider(identifier: str, what: str) -> str:
    if not isinstance(identifier, str) or not identifier.strip():
        raise NotRegisteredError(
            f"{what} id must be a non-empty string like 'openai/gpt-4o-mini', got {identifier!r}"
        )
    return identifier.split("/", 1)[0].strip().lower()
