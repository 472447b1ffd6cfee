"""Parse a spec into the validated ``WorkflowDocument``, every error located in the source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gecko.compose.declarative.errors import Problem, SpecError
from gecko.compose.declarative.source import PathKey, Source, read_source
from gecko.compose.declarative.spec import WorkflowDocument


@dataclass
class Parsed:
    document: WorkflowDocument
    source: Source


def parse_document(spec: Any) -> Parsed:
    """Read and validate ``spec`` (a path, YAML/JSON text, or a dict) against the models."""
    from pydantic import ValidationError

    source = read_source(spec)
    if not isinstance(source.data, dict):
        raise SpecError(
            [
                source.problem(
                    f"the document must be a mapping with a `workflow:` key, got a {_kind(source.data)}"
                )
            ]
        )
    try:
        document = WorkflowDocument.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError([_problem(source, error) for error in exc.errors()]) from None
    except (RecursionError, OverflowError) as exc:  # absurd inputs: still a located error
        raise SpecError(
            [source.problem(f"the document cannot be validated: {type(exc).__name__}")]
        ) from None
    return Parsed(document, source)


def _problem(source: Source, error: Any) -> Problem:
    path = _data_path(source.data, error["loc"])
    kind = error["type"]
    message = error["msg"]
    if kind == "extra_forbidden":
        message = f"unknown field {path[-1]!r}" if path else "unknown field"
    elif kind == "missing":
        message = f"missing required field {error['loc'][-1]!r}"
        path = _data_path(source.data, error["loc"][:-1])
        return source.problem(message, path)
    elif kind in ("node_type", "workflow_type"):
        got = error.get("input")
        if isinstance(got, dict):
            shown = {k: got[k] for k in ("type", "subtype") if k in got}
            message = f"{message}, got {_short(shown or 'no type')}"
    elif kind in ("literal_error", "string_pattern_mismatch", "enum") or kind.endswith("_type"):
        message = f"{message}, got {_short(error.get('input'))}"
    return source.problem(message, path)


def _data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Map pydantic's ``loc`` (which includes union tags) to a path in the document."""
    path: list[Any] = []
    current = data
    expect_tag = False
    for part in loc:
        if expect_tag:
            expect_tag = False
            if isinstance(part, str) and (part in _TAGS or part.startswith("control")):
                continue
        if isinstance(current, dict) and part == "api_version" and "apiVersion" in current:
            part = "apiVersion"
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
            expect_tag = path == ["workflow"]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
            expect_tag = len(path) == 3 and path[1] == "nodes"
        elif isinstance(part, str):
            path.append(part)  # a missing or unknown key: point at it anyway
            current = None
    return tuple(path)


_TAGS = frozenset(
    {
        "agent",
        "tool",
        "function",
        "aggregation",
        "sub_workflow",
        "human",
        "set",
        "dag",
        "state_machine",
    }
)


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
