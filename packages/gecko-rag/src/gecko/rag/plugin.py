"""gecko-rag's plugin module: vector-store schemes, readers, the ``knowledge_search`` tool
and the ``gecko rag`` commands, all registered without importing a backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gecko.core.plugins import ReaderRegistrar, StorageRegistrar, ToolRegistrar, hookimpl
from gecko.rag.readers.extensions import (
    HTML_EXTENSIONS,
    JSON_EXTENSIONS,
    PDF_EXTENSIONS,
    TEXT_EXTENSIONS,
)

if TYPE_CHECKING:
    import click


@hookimpl
def register_storage(register: StorageRegistrar) -> None:
    register(
        ["chroma", "chroma+http", "chroma+https"],
        "gecko.rag.stores.chroma:ChromaStore.open",
        kind="vector",
    )
    register(
        ["lancedb", "lancedb+s3", "lancedb+gs", "lancedb+az"],
        "gecko.rag.stores.lancedb:LanceDBStore.open",
        kind="vector",
    )
    register(
        ["milvus", "milvus+http", "milvus+https"],
        "gecko.rag.stores.milvus:MilvusStore.open",
        kind="vector",
    )
    register(
        ["postgres+pgvector", "postgresql+pgvector"],
        "gecko.rag.stores.pgvector:PgVectorStore.open",
        kind="vector",
    )
    register(
        ["qdrant", "qdrant+http", "qdrant+https"],
        "gecko.rag.stores.qdrant:QdrantStore.open",
        kind="vector",
    )


@hookimpl
def register_readers(register: ReaderRegistrar) -> None:
    register(TEXT_EXTENSIONS, "gecko.rag.readers.text:TextReader")
    register(JSON_EXTENSIONS, "gecko.rag.readers.json_reader:JsonReader")
    register(HTML_EXTENSIONS, "gecko.rag.readers.html:HtmlReader")
    register(PDF_EXTENSIONS, "gecko.rag.readers.pdf:PdfReader")


@hookimpl
def register_tools(register: ToolRegistrar) -> None:
    register("knowledge_search", "gecko.rag.retrieval:RetrievalTool")


@hookimpl
def register_commands(cli: click.Group) -> None:
    from gecko.rag.cli import rag

    cli.add_command(rag)
