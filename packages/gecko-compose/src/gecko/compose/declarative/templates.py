"""Spec values holding ``${...}`` expressions: strings, and lists and mappings of them.

A string that is exactly one ``${...}`` gives the expression's value itself; text
around expressions makes a string (values are written as JSON); ``$${`` is a
literal ``${``. Templates compile when a spec loads and render per node call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gecko.compose.declarative.expressions import (
    Expression,
    ExpressionSyntaxError,
    Names,
    Scope,
    compile_expression,
    jsonable,
)


def scan_templates(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, body)`` of each ``${...}`` in ``text`` (braces and quotes balanced)."""
    found: list[tuple[int, int, str]] = []
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            return found
        if start > 0 and text[start - 1] == "$":  # $${ is a literal ${
            i = start + 2
            continue
        depth, j, quote = 1, start + 2, ""
        while j < len(text) and depth:
            ch = text[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            j += 1
        if depth:
            raise ExpressionSyntaxError(f"unclosed ${{ in {text!r}")
        found.append((start, j, text[start + 2 : j - 1]))
        i = j


class Template:
    """A spec value with expressions inside (strings, or nested in lists and mappings)."""

    __slots__ = ("_parts", "constant", "expressions", "kind", "value")

    def __init__(
        self,
        value: Any,
        names: Names,
        *,
        expression: bool = False,
        errors: list[tuple[tuple[Any, ...], str]] | None = None,
    ) -> None:
        """``expression=True``: a string without ``${`` is itself an expression (conditions).

        With ``errors``, each bad expression is recorded there as ``(sub-path, message)``
        (and left out) instead of raising ExpressionSyntaxError.
        """
        self.expressions: list[Expression] = []
        self.value = value
        self.kind = "constant"
        self._parts: Any = None
        if errors is not None:
            try:
                self.__init__(value, names, expression=expression, errors=None)  # type: ignore[misc]
            except ExpressionSyntaxError as exc:
                if not isinstance(value, (Mapping, list)):
                    errors.append(((), str(exc)))
                    self.value, self.kind, self._parts, self.expressions = (
                        None,
                        "constant",
                        None,
                        [],
                    )
                else:
                    self._collect(value, names, errors)
            self.constant = self.kind == "constant"
            return
        if isinstance(value, str):
            spans = scan_templates(value)
            if not spans and expression:
                spans = [(0, len(value), value)]
                self.kind = "single"
                self._parts = compile_expression(value, names)
                self.expressions.append(self._parts)
            elif len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(value):
                self.kind = "single"
                self._parts = compile_expression(spans[0][2], names)
                self.expressions.append(self._parts)
            elif spans:
                self.kind = "text"
                parts: list[Any] = []
                last = 0
                for start, end, body in spans:
                    parts.append(value[last:start].replace("$${", "${"))
                    compiled = compile_expression(body, names)
                    parts.append(compiled)
                    self.expressions.append(compiled)
                    last = end
                parts.append(value[last:].replace("$${", "${"))
                self._parts = parts
            elif "$${" in value:
                self.value = value.replace("$${", "${")
        elif isinstance(value, Mapping):
            items = {key: _child(key, item, names) for key, item in value.items()}
            if any(not t.constant for t in items.values()):
                self.kind, self._parts = "mapping", items
                for t in items.values():
                    self.expressions.extend(t.expressions)
        elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
            entries = [_child(i, item, names) for i, item in enumerate(value)]
            if any(not t.constant for t in entries):
                self.kind, self._parts = "list", entries
                for t in entries:
                    self.expressions.extend(t.expressions)
        self.constant = self.kind == "constant"

    def _collect(self, value: Any, names: Names, errors: list[tuple[tuple[Any, ...], str]]) -> None:
        """Compile what compiles; record every bad expression with its sub-path."""
        pairs = list(value.items() if isinstance(value, Mapping) else enumerate(value))
        children: list[tuple[Any, Template]] = []
        for key, item in pairs:
            found: list[tuple[tuple[Any, ...], str]] = []
            children.append((key, Template(item, names, errors=found)))
            errors.extend(((key, *path), message) for path, message in found)
        for _, child in children:
            self.expressions.extend(child.expressions)
        if isinstance(value, Mapping):
            self.kind, self._parts = "mapping", dict(children)
        else:
            self.kind, self._parts = "list", [child for _, child in children]

    def keyword_getters(
        self, predecessor: str | None, where: str
    ) -> list[tuple[str, Callable[[Any], Any]]] | None:
        """A mapping of constants and plain paths on the input, as ``(key, value -> item)``."""
        if self.kind not in ("mapping", "constant") or not isinstance(self.value, Mapping):
            return None
        if self.kind == "constant":
            return [(str(k), _constant(v)) for k, v in self.value.items()]
        getters: list[tuple[str, Callable[[Any], Any]]] = []
        for key, template in self._parts.items():
            if template.kind == "constant":
                getters.append((str(key), _constant(template.value)))
                continue
            get = (
                template._parts.on_input(predecessor, where) if template.kind == "single" else None
            )
            if get is None:
                return None
            getters.append((str(key), get))
        return getters

    def render(self, scope: Scope, where: str) -> Any:
        kind = self.kind
        if kind == "constant":
            return self.value
        if kind == "single":
            return self._parts.evaluate(scope, where)
        if kind == "text":
            return "".join(
                part if isinstance(part, str) else _text(part.evaluate(scope, where))
                for part in self._parts
            )
        if kind == "mapping":
            return {key: t.render(scope, where) for key, t in self._parts.items()}
        return [t.render(scope, where) for t in self._parts]


def _constant(value: Any) -> Callable[[Any], Any]:
    def get(_: Any) -> Any:
        return value

    return get


def _child(key: Any, value: Any, names: Names) -> Template:
    try:
        return Template(value, names)
    except ExpressionSyntaxError as exc:
        exc.path = (key, *getattr(exc, "path", ()))  # type: ignore[attr-defined]
        raise


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(jsonable(value), ensure_ascii=False, default=str)
