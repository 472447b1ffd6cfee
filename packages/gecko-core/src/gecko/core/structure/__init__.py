"""Structured output: a pydantic model as a chat model's answer (see ``StructureEngine``)."""

from __future__ import annotations

from gecko.core.structure.engine import DEFAULT_TOOL_NAME, StructureEngine, structure_engine
from gecko.core.structure.extract import balanced_objects, json_candidates

__all__ = [
    "DEFAULT_TOOL_NAME",
    "StructureEngine",
    "balanced_objects",
    "json_candidates",
    "structure_engine",
]
