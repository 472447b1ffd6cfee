"""A fast evaluator for the common subset of CEL, exact or it steps aside.

cel-python's interpreter takes hundreds of microseconds per evaluation. Most
workflow expressions are comparisons, boolean logic, ternaries and simple
arithmetic over JSON values; this module compiles those parse trees into Python
closures (no ``eval``). Each operation checks its operand types and computes a
result only where CEL defines exactly what Python computes (``int`` with ``int``
inside int64, ``double`` with ``double``, ``string`` with ``string``...). Anything
else — mixed numeric types, errors, overflow — raises ``Fallback``, and the
caller evaluates the expression with cel-python, which gives CEL's own answer.
Expressions using other constructs (macros, conversions, custom functions, maps)
are not compiled here at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]

_INT64 = (-(2**63), 2**63 - 1)
_INT = re.compile(r"^\d+$")
_FLOAT = re.compile(r"^\d+\.\d+([eE][+-]?\d+)?$")


class Fallback(Exception):
    """This evaluation needs the real CEL interpreter."""


class Unsupported(Exception):
    """The expression uses a construct this evaluator does not compile."""


def compile_fast(tree: Any) -> Compiled | None:
    """A closure evaluating ``tree`` (a cel-python parse tree), or None if unsupported."""
    try:
        return _compile(tree)
    except Unsupported:
        return None


def _children(tree: Any) -> list[Any]:
    return list(tree.children)


def _compile(tree: Any) -> Compiled:
    import lark

    if not isinstance(tree, lark.Tree):
        raise Unsupported(str(tree))
    rule = str(tree.data)
    kids = _children(tree)
    handler = _RULES.get(rule)
    if handler is None:
        raise Unsupported(rule)
    return handler(kids)


def _single(kids: list[Any]) -> Compiled:
    if len(kids) != 1:
        raise Unsupported("arity")
    return _compile(kids[0])


def _expr(kids: list[Any]) -> Compiled:
    if len(kids) == 1:
        return _compile(kids[0])
    if len(kids) != 3:
        raise Unsupported("expr")
    cond, then, other = (_compile(k) for k in kids)

    def ternary(env: Env) -> Any:
        test = cond(env)
        if type(test) is not bool:
            raise Fallback
        return then(env) if test else other(env)

    return ternary


def _logical(is_and: bool) -> Callable[[list[Any]], Compiled]:
    def build(kids: list[Any]) -> Compiled:
        if len(kids) == 1:
            return _compile(kids[0])
        left, right = (_compile(k) for k in kids)

        def both(env: Env) -> Any:
            first = left(env)
            if type(first) is not bool:
                raise Fallback
            if first is not is_and:  # false && ... / true || ...
                return first
            second = right(env)
            if type(second) is not bool:
                raise Fallback
            return second

        return both

    return build


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "relation_lt": lambda a, b: a < b,
    "relation_le": lambda a, b: a <= b,
    "relation_gt": lambda a, b: a > b,
    "relation_ge": lambda a, b: a >= b,
    "relation_eq": lambda a, b: a == b,
    "relation_ne": lambda a, b: a != b,
}
_SCALARS = (bool, int, float, str)


def _binary(kids: list[Any]) -> tuple[str, Compiled, Compiled]:
    """``[op_rule [left], right]``: how the grammar nests a binary operation."""
    op_node, right = kids
    [left] = _children(op_node)
    return str(op_node.data), _compile(left), _compile(right)


def _relation(kids: list[Any]) -> Compiled:
    if len(kids) == 2 and str(getattr(kids[0], "data", "")) in (*_COMPARE, "relation_in"):
        op, left, right = _binary(kids)
        if op == "relation_in":
            return _membership(left, right)
        compare = _COMPARE[op]
        ordering = op not in ("relation_eq", "relation_ne")

        def relation(env: Env) -> Any:
            a, b = left(env), right(env)
            kind = type(a)
            if kind is not type(b) or kind not in _SCALARS:
                if not ordering and a is None and b is None:
                    return compare(a, b)
                raise Fallback
            return compare(a, b)

        return relation
    return _single(kids)


def _membership(left: Compiled, right: Compiled) -> Compiled:
    def contains(env: Env) -> Any:
        item, container = left(env), right(env)
        kind = type(item)
        if kind not in (int, str, bool):
            raise Fallback
        if type(container) is list and all(type(x) is kind for x in container):
            return item in container
        if type(container) is dict and kind is str and all(type(k) is str for k in container):
            return item in container
        raise Fallback

    return contains


def _checked(value: Any) -> Any:
    """Values CEL cannot hold (ints beyond int64) or containers of unknown content step aside."""
    kind = type(value)
    if kind is int and not _INT64[0] <= value <= _INT64[1]:
        raise Fallback  # CEL: overflow error
    if kind is list and any(type(v) is int and not _INT64[0] <= v <= _INT64[1] for v in value):
        raise Fallback
    return value


def _arithmetic(kids: list[Any]) -> Compiled:
    if len(kids) == 1:
        return _compile(kids[0])
    if len(kids) != 2:
        raise Unsupported("arithmetic")
    op = str(getattr(kids[0], "data", ""))
    if op not in ("addition_add", "addition_sub", "multiplication_mul"):
        raise Unsupported(op)  # division and modulo round differently: CEL decides
    op, left, right = _binary(kids)

    def arithmetic(env: Env) -> Any:
        a, b = left(env), right(env)
        kind = type(a)
        if kind is not type(b) or kind is bool:
            raise Fallback
        if op == "addition_add":
            if kind in (int, float, str, list):
                return _checked(a + b)
        elif kind in (int, float):
            return _checked(a - b if op == "addition_sub" else a * b)
        raise Fallback

    return arithmetic


def _unary(kids: list[Any]) -> Compiled:
    if len(kids) == 1:
        return _compile(kids[0])
    if len(kids) != 2:
        raise Unsupported("unary")
    op = str(kids[0].data)
    inner = _compile(kids[1])
    if op == "unary_not":

        def negate(env: Env) -> Any:
            value = inner(env)
            if type(value) is not bool:
                raise Fallback
            return not value

        return negate
    if op == "unary_neg":

        def minus(env: Env) -> Any:
            value = inner(env)
            if type(value) not in (int, float):
                raise Fallback
            return _checked(-value)

        return minus
    raise Unsupported(op)


def _member(kids: list[Any]) -> Compiled:
    if len(kids) != 1:
        raise Unsupported("member")
    node = kids[0]
    rule = str(getattr(node, "data", ""))
    if rule == "primary":
        return _compile(node)
    parts = _children(node)
    if rule == "member_dot":
        base, name = _compile(parts[0]), str(parts[1])
        return _field(base, name)
    if rule == "member_index":
        base, index = _compile(parts[0]), _compile(parts[1])
        return _index(base, index)
    if rule == "member_dot_arg":
        return _method(_compile(parts[0]), str(parts[1]), parts[2:])
    raise Unsupported(rule)


def _field(base: Compiled, name: str) -> Compiled:
    def field(env: Env) -> Any:
        value = base(env)
        if type(value) is not dict or name not in value:
            raise Fallback
        return _checked(value[name])

    return field


def _index(base: Compiled, index: Compiled) -> Compiled:
    def item(env: Env) -> Any:
        value, key = base(env), index(env)
        if type(value) is list and type(key) is int and 0 <= key < len(value):
            return _checked(value[key])
        if type(value) is dict and type(key) is str and key in value:
            return _checked(value[key])
        raise Fallback

    return item


_STRING_METHODS = {
    "startsWith": str.startswith,
    "endsWith": str.endswith,
    "contains": str.__contains__,
}


def _method(base: Compiled, name: str, rest: list[Any]) -> Compiled:
    args = [_compile(k) for k in _children(rest[0])] if rest else []
    if name == "size" and not args:
        return _size(base)
    method = _STRING_METHODS.get(name)
    if method is None or len(args) != 1:
        raise Unsupported(name)
    [arg] = args

    def call(env: Env) -> Any:
        value, other = base(env), arg(env)
        if type(value) is not str or type(other) is not str:
            raise Fallback
        return method(value, other)

    return call


def _size(inner: Compiled) -> Compiled:
    def size(env: Env) -> Any:
        value = inner(env)
        if type(value) not in (str, list, dict):
            raise Fallback
        return len(value)

    return size


def _primary(kids: list[Any]) -> Compiled:
    if len(kids) != 1:
        raise Unsupported("primary")
    node = kids[0]
    rule = str(getattr(node, "data", ""))
    parts = _children(node) if hasattr(node, "children") else []
    if rule == "ident":
        name = str(parts[0])

        def ident(env: Env) -> Any:
            return _checked(env[name])

        return ident
    if rule == "ident_arg":
        function = str(parts[0])
        args = [_compile(k) for k in _children(parts[1])] if len(parts) > 1 else []
        if function == "size" and len(args) == 1:
            return _size(args[0])
        raise Unsupported(function)
    if rule == "literal":
        value = _literal(parts[0])
        return lambda env: value
    if rule == "paren_expr":
        return _compile(parts[0])
    if rule == "list_lit":
        items = [_compile(k) for k in _children(parts[0])] if parts else []
        return lambda env: [item(env) for item in items]
    raise Unsupported(rule)


def _literal(token: Any) -> Any:
    kind, text = token.type, str(token)
    if kind == "INT_LIT" and _INT.match(text):
        return _checked(int(text))
    if kind == "FLOAT_LIT" and _FLOAT.match(text):
        return float(text)
    if kind == "BOOL_LIT":
        return text == "true"
    if kind == "NULL_LIT":
        return None
    if kind == "STRING_LIT" and len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        body = text[1:-1]
        if "\\" not in body and text[0] not in body and not text.startswith(("'''", '"""')):
            return body
    raise Unsupported(kind)


_RULES: dict[str, Callable[[list[Any]], Compiled]] = {
    "expr": _expr,
    "conditionalor": _logical(False),
    "conditionaland": _logical(True),
    "relation": _relation,
    "addition": _arithmetic,
    "multiplication": _arithmetic,
    "unary": _unary,
    "member": _member,
    "primary": _primary,
}
