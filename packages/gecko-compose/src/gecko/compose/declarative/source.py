"""Reading a spec document: YAML (``safe_load`` only) or JSON text, a file, or a dict.

Every value's position (line, column) is kept by its path in the document, so
errors found later can say ``file:line:column``. Documents are bounded: size,
nesting depth and the number of values (aliases counted expanded) are capped,
so a hostile document cannot hang the loader or exhaust memory.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gecko.compose.declarative.errors import Problem, SpecError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 200_000

PathKey = tuple[Any, ...]
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


@dataclass
class Source:
    """A parsed document, where it came from and the position of each of its values."""

    data: Any
    file: str | None = None
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    text: str | None = None  # JSON read fast: positions are found again only for an error

    @property
    def directory(self) -> Path | None:
        return Path(self.file).parent if self.file else None

    def problem(self, message: str, path: PathKey = ()) -> Problem:
        line, column = self.position(path)
        return Problem(message, format_path(path), self.file, line, column)

    def position(self, path: PathKey) -> tuple[int | None, int | None]:
        if self.text is not None:
            text, self.text = self.text, None
            try:
                self.positions = parse_text(text, self.file, fast=False).positions
            except SpecError:  # pragma: no cover - the text parsed as JSON already
                pass
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None, None
            path = path[:-1]


def format_path(path: PathKey) -> str:
    """``("workflow", "nodes", 3, "inputs", "url")`` -> ``nodes[3].inputs.url``."""
    parts = list(path)
    if parts and parts[0] == "workflow" and len(parts) > 1:
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def read_source(spec: Any) -> Source:
    """A path (``str`` / ``Path`` naming a file), YAML/JSON text, or a mapping."""
    if isinstance(spec, Mapping):
        _check_plain(spec)
        return Source(dict(spec))
    if isinstance(spec, Path) or (
        isinstance(spec, str) and "\n" not in spec and _looks_like_path(spec)
    ):
        path = Path(spec)
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise SpecError(
                    [Problem(f"the file is {size} bytes; at most {MAX_BYTES}", "", str(path))]
                )
            text = path.read_text(encoding="utf-8")
        except SpecError:
            raise
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(
                [Problem(f"cannot read the spec file: {exc}", "", str(path))],
                hint="pass a path to a YAML or JSON file, the spec text, or a dict",
            ) from None
        return parse_text(text, str(path))
    if isinstance(spec, (bytes, bytearray)):
        try:
            spec = bytes(spec).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError([Problem(f"the spec is not UTF-8: {exc}")]) from None
    if isinstance(spec, str):
        return parse_text(spec, None)
    raise SpecError(
        [Problem(f"cannot read a spec from a {type(spec).__name__}")],
        hint="pass a path to a YAML or JSON file, the spec text, or a dict",
    )


def _looks_like_path(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped.startswith(("{", "[")) or ": " in stripped:
        return False
    return stripped.endswith((".yaml", ".yml", ".json")) or os.path.exists(stripped)


def parse_text(text: str, file: str | None, *, fast: bool = True) -> Source:
    """Parse YAML (JSON is YAML too) with positions; a syntax error gives its line and column.

    JSON text is read with the json module (positions are computed only if a problem
    needs one); anything that is not valid JSON goes through the YAML path.
    """
    import yaml  # type: ignore[import-untyped]

    if len(text) > MAX_BYTES:
        raise SpecError(
            [Problem(f"the spec is {len(text)} characters; at most {MAX_BYTES}", "", file)]
        )
    if fast and text.lstrip().startswith("{"):
        data = _json(text)
        if data is not None:
            _check_plain(data)
            return Source(data, file, text=text)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when available
    try:
        root = loader.get_single_node()
        if root is None:
            raise SpecError([Problem("the document is empty", "", file, 1, 1)])
        positions: dict[PathKey, tuple[int, int]] = {}
        _measure(root, 0, {})
        try:
            data = _build(loader, root, (), positions, 0)
        except SpecError as exc:
            raise SpecError([dataclasses.replace(p, file=file) for p in exc.problems]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        detail = " ".join(filter(None, [exc.context, exc.problem])) or str(exc)
        raise SpecError([Problem(f"invalid YAML: {detail}", "", file, line, column)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(f"invalid YAML: {exc}", "", file)]) from None
    except RecursionError:
        raise SpecError(
            [Problem(f"the document is nested deeper than {MAX_DEPTH} levels", "", file)]
        ) from None
    finally:
        loader.dispose()
    return Source(data, file, positions)


def _json(text: str) -> Any:
    import json

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            raise ValueError("duplicate key")  # the YAML path names it, with its position
        return result

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None


def _measure(node: Any, depth: int, sizes: dict[int, int]) -> int:
    """The number of values under ``node`` with aliases expanded (memoised), bounded."""
    import yaml  # type: ignore[import-untyped]

    if depth > MAX_DEPTH:
        raise SpecError([Problem(f"the document is nested deeper than {MAX_DEPTH} levels")])
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 0  # a recursive alias counts as nothing more while being measured
    total = 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            total += _measure(key, depth + 1, sizes) + _measure(value, depth + 1, sizes)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            total += _measure(item, depth + 1, sizes)
    if total > MAX_VALUES:
        raise SpecError(
            [Problem(f"the document holds more than {MAX_VALUES} values (aliases expanded)")]
        )
    sizes[id(node)] = total
    return total


def _build(
    loader: Any, node: Any, path: PathKey, positions: dict[PathKey, tuple[int, int]], depth: int
) -> Any:
    """Plain Python data from a YAML node tree (aliases expanded as copies), recording positions."""
    import yaml  # type: ignore[import-untyped]

    mark = node.start_mark
    positions[path] = (mark.line + 1, mark.column + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        raise SpecError(
            [_problem_at(node, f"invalid YAML: the tag {node.tag!r} is not allowed", path)]
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # merge keys (<<)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict, set)):
                raise SpecError([_problem_at(key_node, "a mapping key must be a scalar", path)])
            if key in result:
                raise SpecError([_problem_at(key_node, f"duplicate key {key!r}", path)])
            key_path = (*path, key)
            result[key] = _build(loader, value_node, key_path, positions, depth + 1)
            key_mark = key_node.start_mark  # errors point at the key, where editors show them
            positions[key_path] = (key_mark.line + 1, key_mark.column + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, index), positions, depth + 1)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _problem_at(node: Any, message: str, path: PathKey) -> Problem:
    mark = node.start_mark
    return Problem(
        message,
        format_path(path),
        None,  # the caller fills in the file
        mark.line + 1,
        mark.column + 1,
    )


def _check_plain(value: Any, depth: int = 0, budget: list[int] | None = None) -> None:
    """A dict spec must be plain data (JSON-like), bounded like a parsed one."""
    budget = budget if budget is not None else [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0:
        raise SpecError([Problem(f"the spec holds more than {MAX_VALUES} values")])
    if depth > MAX_DEPTH:
        raise SpecError([Problem(f"the spec is nested deeper than {MAX_DEPTH} levels")])
    if isinstance(value, Mapping):
        for item in value.values():
            _check_plain(item, depth + 1, budget)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, depth + 1, budget)
