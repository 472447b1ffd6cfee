"""Splitters cut documents into chunks that fit an embedding model and a prompt."""

from __future__ import annotations

from gecko.rag.splitters.base import DEFAULT_SEPARATORS, BaseSplitter, Span, TextSplitter
from gecko.rag.splitters.markdown import MarkdownSplitter, markdown_sections
from gecko.rag.splitters.recursive import RecursiveCharacterSplitter
from gecko.rag.splitters.token import TokenSplitter

__all__ = [
    "DEFAULT_SEPARATORS",
    "BaseSplitter",
    "MarkdownSplitter",
    "RecursiveCharacterSplitter",
    "Span",
    "TextSplitter",
    "TokenSplitter",
    "markdown_sections",
]
