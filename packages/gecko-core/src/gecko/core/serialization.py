"""Strict JSON for everything Gecko persists.

``dumps`` never stringifies or drops data silently: a value that would not come
back unchanged (a set, an object, a non-string dict key, NaN) is rejected with a
``SerializationError`` naming the key and the path inside the value. Tuples are
the one accepted lossy case: JSON has no tuple, they come back as lists.
"""

from __future__ import annotations

import json
import math
from typing import Any

from gecko.core.errors import CorruptDataError, SerializationError

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_SCALARS = (str, int, float, bool, type(None))


def dumps(value: Any, *, key: str | None = None) -> str:
    """Encode ``value`` as compact JSON or raise a SerializationError naming ``key``.

    Non-string dict keys are rejected too (json would silently turn them into strings).
    """
    try:
        if not _keys_are_strings(value):
            raise TypeError("non-string dict key")
        return _encoder.encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        # The fast path says only that something is wrong; find what and where.
        path, problem = _find_problem(value, "$")
        raise _error(key, path, problem or str(exc)) from exc


def check(value: Any, *, key: str | None = None) -> None:
    """Raise SerializationError if ``value`` does not round-trip through JSON unchanged."""
    dumps(value, key=key)


def loads(text: str | bytes, *, key: str | None = None) -> Any:
    """Decode JSON, raising CorruptDataError naming ``key`` when it is not valid JSON."""
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        where = f" for key {key!r}" if key is not None else ""
        raise CorruptDataError(
            f"stored document{where} is not valid JSON: {exc}",
            hint="the stored value was corrupted or written by another program; "
            "delete or rewrite that key",
            key=key,
        ) from exc


def _error(key: str | None, path: str, problem: str) -> SerializationError:
    where = f"value for key {key!r}" if key is not None else "value"
    at = "" if path == "$" else f" at {path}"
    return SerializationError(
        f"{where} is not JSON-serializable{at}: {problem}",
        hint="store only JSON types (dict with str keys, list, str, int, float, bool, None); "
        "convert other objects first, e.g. model.model_dump(mode='json')",
        key=key,
        path=path,
    )


def _keys_are_strings(value: Any) -> bool:
    """True when every dict key inside ``value`` is a string (the one thing json coerces)."""
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                return False
            if isinstance(item, (dict, list, tuple)) and not _keys_are_strings(item):
                return False
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (dict, list, tuple)) and not _keys_are_strings(item):
                return False
    return True


def _find_problem(value: Any, path: str) -> tuple[str, str | None]:
    """Return (path, problem) for the first value that JSON cannot keep, else (path, None).

    Iterative, so deep values do not hit the recursion limit; a container is circular only
    when it contains itself (one object shared by two branches is fine).
    """
    _exit = object()
    stack: list[tuple[Any, str]] = [(value, path)]
    ancestors: set[int] = set()
    while stack:
        item, where = stack.pop()
        if item is _exit:
            ancestors.discard(int(where))
            continue
        if isinstance(item, float):
            if math.isnan(item) or math.isinf(item):
                return where, f"{item!r} is not allowed in JSON"
            continue
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, (list, tuple, dict)):
            if id(item) in ancestors:
                return where, "circular reference"
            ancestors.add(id(item))
            stack.append((_exit, str(id(item))))
            if isinstance(item, dict):
                children = []
                for k, v in item.items():
                    if not isinstance(k, str):
                        return where, (
                            f"dict key {k!r} is a {type(k).__name__}; JSON object keys must be strings"
                        )
                    children.append((v, f"{where}.{k}"))
                stack.extend(reversed(children))
            else:
                stack.extend(reversed([(v, f"{where}[{i}]") for i, v in enumerate(item)]))
            continue
        return where, f"object of type {type(item).__name__} is not JSON-serializable"
    return path, None
