"""Find the JSON a model meant in its text answer.

Models asked for JSON still wrap it in prose or code fences now and then. The
candidates, in the order they are tried:

1. the whole text (stripped);
2. the body of each fenced code block (```json ... ``` or ``` ... ```);
3. the first balanced ``{...}`` object: braces are matched outside of JSON
   strings only, so ``"}"`` inside a value does not end the object early.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\r?\n(.*?)```", re.DOTALL)
MAX_OBJECT_STARTS = 32
"""How many ``{`` positions are tried when looking for a balanced object."""


def json_candidates(text: str) -> Iterator[str]:
    """Distinct strings that may hold the JSON value, most likely first."""
    seen: set[str] = set()
    for candidate in _candidates(text):
        if candidate and candidate not in seen:
            seen.add(candidate)
            yield candidate


def _candidates(text: str) -> Iterator[str]:
    yield text.strip()
    blocks = list(_FENCE.finditer(text))
    # ```json blocks first, then untagged or other-language blocks
    for match in sorted(blocks, key=lambda m: m.group(1).lower() != "json"):
        yield match.group(2).strip()
    yield from balanced_objects(text)


def balanced_objects(text: str, *, limit: int = MAX_OBJECT_STARTS) -> Iterator[str]:
    """Top-level balanced ``{...}`` substrings of ``text``, in order (string-aware)."""
    start = text.find("{")
    tried = 0
    while start != -1 and tried < limit:
        tried += 1
        end = _matching_brace(text, start)
        if end is None:  # unbalanced from here: try the next brace
            start = text.find("{", start + 1)
        else:  # the next top-level object (nested ones are part of this one)
            yield text[start : end + 1]
            start = text.find("{", end + 1)


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None
