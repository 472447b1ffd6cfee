"""``${...}`` expressions: CEL (cel-python), compiled when a spec loads, never ``eval``.

Names: ``input`` (the workflow input), ``state``, ``<node>.output`` (or
``nodes["<node-id>"].output`` for ids that are not CEL identifiers), ``current``
(the node's own input), ``event`` (``event.name``, ``event.payload``); a bare
name resolves in ``state``, then ``input``. A string that is exactly one
``${...}`` gives the value itself; text around expressions makes a string.

Plain paths (``input.data``, ``node1.output.url``, ``x[0]``) are resolved directly
(the same result CEL gives, much faster); anything else is evaluated by CEL's
interpreter. Functions from plugins' ``register_expression_functions`` hooks are
callable by name; they receive and return plain Python values.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gecko.compose.declarative.errors import ExpressionEvaluationError

RESERVED = frozenset({"input", "state", "current", "event", "nodes"})
_CEL_WORDS = frozenset(
    [
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ]
)
_MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
_PATH = re.compile(
    r"^\s*([A-Za-z_]\w*)((?:\s*\.\s*[A-Za-z_]\w*|\s*\[\s*(?:\d+|\"[^\"\\]*\"|'[^'\\]*')\s*\])*)\s*$"
)
_STEP = re.compile(r"\.\s*([A-Za-z_]\w*)|\[\s*(\d+|\"[^\"\\]*\"|'[^'\\]*')\s*\]")

# How a root name is found at run time.
INPUT, STATE, CURRENT, EVENT, NODES, NODE, BARE = range(7)


class ExpressionSyntaxError(Exception):
    """Raised while compiling; turned into a located Problem by the checker."""


@dataclass
class Names:
    """What expressions of one workflow may name."""

    nodes: frozenset[str]
    bare: frozenset[str]  # state keys and input properties known at load time
    functions: frozenset[str] | None = None  # None: built-in and plugin functions, when needed
    event: bool = False

    def known_functions(self) -> frozenset[str]:
        """Looked up on first use, so specs of plain paths never import cel-python."""
        if self.functions is None:
            self.functions = function_names()
        return self.functions


class Scope:
    """The values an expression is evaluated against (built per node call, read lazily)."""

    __slots__ = ("current", "event", "history", "input", "state")

    def __init__(
        self,
        *,
        input: Any = None,
        state: Mapping[str, Any] | None = None,
        history: Mapping[str, Any] | None = None,
        current: Any = None,
        event: Any = None,
    ) -> None:
        self.input = input
        self.state = state if state is not None else {}
        self.history = history if history is not None else {}
        self.current = current
        self.event = event

    def root(self, name: str, kind: int) -> Any:
        if kind == NODE:
            if name not in self.history:
                raise LookupError(f"node {name!r} has no output (it was skipped or has not run)")
            return {"output": output_json(self.history[name])}
        if kind == INPUT:
            return self.input
        if kind == STATE:
            return dict(self.state)
        if kind == CURRENT:
            return self.current
        if kind == EVENT:
            return self.event
        if kind == NODES:
            return {node: {"output": output_json(out)} for node, out in self.history.items()}
        if name in self.state:
            return self.state[name]
        if isinstance(self.input, Mapping) and name in self.input:
            return self.input[name]
        raise LookupError(f"{name!r} is neither a state key nor a field of the input")


class Expression:
    """One compiled ``${...}`` body."""

    __slots__ = ("_fast", "_node_output", "_program", "_rest", "bindings", "path", "source")

    def __init__(
        self,
        source: str,
        bindings: tuple[tuple[str, int], ...],
        path: tuple[Any, ...] | None,
        program: Any,
        fast: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> None:
        self.source = source
        self._fast = fast
        self.bindings = bindings
        self.path = path  # (key, ...) after the single root, for plain paths
        self._program = program
        # <node>.output... read straight from the history (the hot path of most specs)
        self._node_output = path is not None and bindings[0][1] == NODE and path[:1] == ("output",)
        self._rest = path[1:] if self._node_output and path is not None else path

    @property
    def roots(self) -> list[str]:
        return [name for name, _ in self.bindings]

    def evaluate(self, scope: Scope, where: str) -> Any:
        try:
            rest = self._rest
            if rest is None:
                fast = self._fast
                if fast is not None:
                    env = {name: scope.root(name, kind) for name, kind in self.bindings}
                    try:
                        return fast(env)
                    except Exception:  # noqa: S110 - not exactly computable here: CEL decides
                        pass
                return self._evaluate_cel(scope)
            name, kind = self.bindings[0]
            if self._node_output:
                history = scope.history
                if name not in history:
                    raise LookupError(
                        f"node {name!r} has no output (it was skipped or has not run)"
                    )
                value = output_json(history[name])
            elif kind == CURRENT:
                value = scope.current
            else:
                value = scope.root(name, kind)
            for key in rest:
                value = _step(value, key)
            return value
        except ExpressionEvaluationError:
            raise
        except Exception as exc:  # any failure names the node and the expression
            detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
            raise ExpressionEvaluationError(
                self.source, where, f"{type(exc).__name__}: {detail}"
            ) from None

    def on_input(self, predecessor: str | None, where: str) -> Callable[[Any], Any] | None:
        """For a plain path on ``current`` or on the predecessor's output (which is the
        node's input): a function of the input alone; else None."""
        rest = self._rest
        if rest is None:
            return None
        name, kind = self.bindings[0]
        if not (kind == CURRENT or (self._node_output and name == predecessor)):
            return None
        source = self.source
        convert = kind != CURRENT
        if convert and not rest:
            return output_json  # ${<predecessor>.output}: the input itself, as JSON data

        def get(value: Any) -> Any:
            try:
                if convert:
                    value = output_json(value)
                for key in rest:
                    value = _step(value, key)
                return value
            except Exception as exc:
                detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
                raise ExpressionEvaluationError(
                    source, where, f"{type(exc).__name__}: {detail}"
                ) from None

        return get

    def _evaluate_cel(self, scope: Scope) -> Any:
        from celpy.adapter import json_to_cel
        from celpy.evaluation import CELEvalError

        activation = {
            name: json_to_cel(jsonable(scope.root(name, kind))) for name, kind in self.bindings
        }
        result = self._program.evaluate(activation)
        if isinstance(result, CELEvalError):
            raise result
        return to_python(result)


def _step(value: Any, key: Any) -> Any:
    if type(value) is dict and key in value:
        return value[key]
    if isinstance(value, BaseModel):
        value = jsonable(value)
    if isinstance(key, int):
        if isinstance(value, (list, tuple)):
            return value[key]
        if isinstance(value, Mapping):
            return value[key]
        raise TypeError(f"cannot index a {type(value).__name__} with [{key}]")
    if isinstance(value, Mapping):
        if key not in value:
            raise KeyError(
                f"no such key {key!r} (keys: {', '.join(map(str, list(value)[:10])) or 'none'})"
            )
        return value[key]
    raise TypeError(f"cannot read field {key!r} of a {type(value).__name__}")


# --- compiling ---------------------------------------------------------------------------


def compile_expression(source: str, names: Names) -> Expression:
    """Compile one CEL expression; raises ExpressionSyntaxError for bad syntax or names."""
    text = source.strip()
    if not text:
        raise ExpressionSyntaxError("the expression is empty")
    match = _PATH.match(text)
    if match is not None and match.group(1) not in _CEL_WORDS:
        root = match.group(1)
        binding = _bind(root, names)
        keys = tuple(_key(m) for m in _STEP.finditer(match.group(2)))
        return Expression(text, (binding,), keys, None)
    tree = _parse(text)
    roots, functions = _scan(tree)
    known = names.known_functions()
    unknown = sorted(f for f in functions if f not in known and f not in _MACROS)
    if unknown:
        raise ExpressionSyntaxError(
            f"unknown function {unknown[0]!r} in ${{{text}}}; known: "
            + ", ".join(sorted(known))[:400]
        )
    bindings = tuple(_bind(root, names) for root in roots)
    from gecko.compose.declarative.fastcel import compile_fast

    return Expression(text, bindings, None, _program(tree), compile_fast(tree))


def _key(match: re.Match[str]) -> Any:
    name, index = match.group(1), match.group(2)
    if name is not None:
        return name
    if index[0] in "\"'":
        return index[1:-1]
    return int(index)


def _bind(root: str, names: Names) -> tuple[str, int]:
    if root == "input":
        return root, INPUT
    if root == "state":
        return root, STATE
    if root == "current":
        return root, CURRENT
    if root == "nodes":
        return root, NODES
    if root == "event":
        if not names.event:
            raise ExpressionSyntaxError("`event` exists only in state-machine guards and actions")
        return root, EVENT
    if root in names.nodes:
        return root, NODE
    if root in names.bare:
        return root, BARE
    known = sorted(
        {*RESERVED, *names.nodes, *names.bare} - ({"event"} if not names.event else set())
    )
    raise ExpressionSyntaxError(
        f"unknown name {root!r}; expressions can read {', '.join(known)} "
        "(declare a state key under `state:` or an input property under `inputs.properties`)"
    )


_lock = threading.Lock()
_environment: Any = None
_parsed: dict[str, Any] = {}


def _env() -> Any:
    global _environment
    if _environment is None:
        with _lock:
            if _environment is None:
                import celpy

                _environment = celpy.Environment()
    return _environment


def _parse(text: str) -> Any:
    from celpy.celparser import CELParseError

    tree = _parsed.get(text)
    if tree is not None:
        return tree
    try:
        tree = _env().compile(text)
    except CELParseError as exc:
        detail = str(exc.args[0]) if exc.args else str(exc)
        column = getattr(exc, "column", None)
        at = f" at column {column}" if column else ""
        raise ExpressionSyntaxError(
            f"CEL syntax error{at} in ${{{text}}}: {detail.splitlines()[0]}"
        ) from None
    except RecursionError:
        raise ExpressionSyntaxError(
            f"the expression ${{{text[:60]}}} is nested too deeply"
        ) from None
    if len(_parsed) < 4096:
        _parsed[text] = tree
    return tree


def _program(tree: Any) -> Any:
    return _env().program(tree, functions=custom_functions())


def _scan(tree: Any) -> tuple[list[str], set[str]]:
    """Root identifiers (bound macro variables excluded) and function / method names."""
    import lark

    roots: list[str] = []
    bound: set[str] = set()
    functions: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, lark.Tree):
            continue
        if node.data == "member_dot_arg":
            method = str(node.children[1])
            functions.add(method)
            if method in _MACROS and len(node.children) > 2:
                first = _bare_ident(node.children[2])
                if first is not None:
                    bound.add(first)
        elif node.data == "ident_arg":
            functions.add(str(node.children[0]))
        elif node.data == "ident":
            name = str(node.children[0])
            if name not in roots:
                roots.append(name)
        stack.extend(reversed(node.children))
    return [r for r in roots if r not in bound], functions


def _bare_ident(exprlist: Any) -> str | None:
    import lark

    node = exprlist.children[0] if getattr(exprlist, "children", None) else None
    while isinstance(node, lark.Tree):
        if node.data == "ident":
            return str(node.children[0])
        if len(node.children) != 1:
            return None
        node = node.children[0]
    return None


# --- functions -------------------------------------------------------------------------------


def builtin_function_names() -> frozenset[str]:
    from celpy.evaluation import base_functions

    return frozenset(n for n in base_functions if n[0].isalpha()) | _MACROS


def function_names() -> frozenset[str]:
    return builtin_function_names() | frozenset(custom_functions())


def custom_functions() -> dict[str, Callable[..., Any]]:
    """Functions plugins registered (``register_expression_functions``), wrapped for CEL."""
    from gecko.core.plugins.manager import get_plugin_manager

    registry = get_plugin_manager().registry("expression_functions")
    cached: dict[str, Callable[..., Any]] | None = getattr(registry, "_cel_functions", None)
    if cached is None:
        cached = {name: _wrap(name, reg.load()) for name, reg in registry.entries.items()}
        registry._cel_functions = cached  # type: ignore[attr-defined]
    return cached


def _wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        from celpy.adapter import json_to_cel

        return json_to_cel(jsonable(function(*(to_python(a) for a in args))))

    call.__name__ = name
    return call


# --- values ------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A node output as JSON data: pydantic models dumped, tuples and sets as lists."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


_agent_output: Any = None


def output_json(output: Any) -> Any:
    """A node output as expressions see it; an agent's: its structured object, else its fields."""
    global _agent_output
    if output is None or isinstance(output, (str, int, float, bool)):
        return output
    if _agent_output is None:
        from gecko.core.output import AgentOutput

        _agent_output = AgentOutput
    if isinstance(output, _agent_output):
        if output.parsed is not None:
            return jsonable(output.parsed)
        return output.model_dump(mode="json", exclude={"messages", "raw"})
    if type(output) in (dict, list):
        return output  # not copied: a model inside is dumped when a path step reaches it
    return jsonable(output)


def to_python(value: Any) -> Any:
    """CEL values back to plain Python (bool, int, float, str, bytes, list, dict, None)."""
    from celpy import celtypes

    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.BytesType):
        return bytes(value)
    if isinstance(value, celtypes.ListType):
        return [to_python(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {to_python(k): to_python(v) for k, v in value.items()}
    if isinstance(value, celtypes.NullType):
        return None
    return value
