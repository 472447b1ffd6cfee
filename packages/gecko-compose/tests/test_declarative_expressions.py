"""``${...}`` expressions: CEL semantics, names, templates, plugged-in functions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gecko.compose import load_workflow
from gecko.compose.declarative.errors import ExpressionEvaluationError
from gecko.compose.declarative.expressions import (
    ExpressionSyntaxError,
    Names,
    Scope,
    compile_expression,
    function_names,
)
from gecko.compose.declarative.templates import Template
from gecko.core.plugins import ExpressionFunctionRegistrar, hookimpl, plugin_registered

pytestmark = pytest.mark.anyio


def names(**extra: Any) -> Names:
    return Names(
        nodes=frozenset({"node1", "fetch"}),
        bare=frozenset(extra.get("bare", {"score"})),
        functions=function_names(),
        event=extra.get("event", False),
    )


SCOPE = Scope(
    input={"data": "hello", "items": [1, 2, 3], "user": {"id": 7}},
    state={"score": 0.9, "tags": ["a"]},
    history={"node1": {"url": "https://x", "n": 2}},
    current={"data": "from predecessor"},
)


def value(text: str, **extra: Any) -> Any:
    return Template(text, names(**extra)).render(SCOPE, "node 'test'")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${input.data}", "hello"),
        ("${node1.output.url}", "https://x"),
        ("${current.data}", "from predecessor"),
        ("${input.items[1]}", 2),
        ("${input['user'].id}", 7),
        ("${nodes['node1'].output.n}", 2),
        ("${score}", 0.9),  # a bare name: state first
        ("${state.tags}", ["a"]),
        ("${input.items.map(x, x * 2)}", [2, 4, 6]),
        ("${input.items.exists(x, x > 2) && score > 0.5}", True),
        ("${size(input.items) > 2 ? 'high' : 'low'}", "high"),
        ("${has(input.missing)}", False),
        ("${input.data.startsWith('he')}", True),
        ("${ {'a': node1.output.n + 1} }", {"a": 3}),
        ("url=${node1.output.url}, n=${node1.output.n}", "url=https://x, n=2"),
        ("items: ${input.items}", "items: [1, 2, 3]"),
        ("literal $${input.data}", "literal ${input.data}"),
        ("no expression", "no expression"),
    ],
)
def test_expressions_evaluate_like_cel(text: str, expected: Any) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    "path", ["input.data", "node1.output.url", "input.items[2]", "input['user'].id"]
)
def test_the_fast_path_for_plain_paths_agrees_with_the_cel_interpreter(path: str) -> None:
    fast = compile_expression(path, names())
    assert fast.path is not None  # resolved directly
    slow = compile_expression(f"({path})", names())  # the same expression, through CEL
    assert slow.path is None
    assert fast.evaluate(SCOPE, "n") == slow.evaluate(SCOPE, "n")


def test_a_bare_name_falls_back_to_the_input() -> None:
    scope = Scope(input={"score": "high"}, state={})
    assert Template("${score}", names()).render(scope, "n") == "high"
    with pytest.raises(
        ExpressionEvaluationError, match="neither a state key nor a field of the input"
    ):
        Template("${score}", names()).render(Scope(input={}, state={}), "node 'd'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${input.data +}", "CEL syntax error"),
        ("${unknown.field}", "unknown name 'unknown'"),
        ("${shout(input.data)}", "unknown function 'shout'"),
        ("${event.name}", "`event` exists only in state-machine guards"),
        ("${input.data", "unclosed ${"),
        ("${}", "the expression is empty"),
    ],
)
def test_bad_expressions_fail_when_compiled(text: str, message: str) -> None:
    with pytest.raises(
        ExpressionSyntaxError,
        match=message.replace("$", r"\$").replace("{", r"\{").replace("(", r"\("),
    ):
        Template(text, names())


def test_macro_variables_are_not_unknown_names() -> None:
    compiled = compile_expression("input.items.all(item, item > 0)", names())
    assert compiled.roots == ["input"]


def test_runtime_errors_name_the_node_and_the_expression() -> None:
    with pytest.raises(ExpressionEvaluationError) as info:
        Template("${input.data + 1}", names()).render(SCOPE, "node 'adder'")
    assert str(info.value).startswith("node 'adder': expression ${input.data + 1} failed:")
    with pytest.raises(ExpressionEvaluationError, match="no such key 'nope'"):
        Template("${node1.output.nope}", names()).render(SCOPE, "node 'reader'")
    with pytest.raises(ExpressionEvaluationError, match="node 'fetch' has no output"):
        Template("${fetch.output}", names()).render(SCOPE, "node 'reader'")


class ShoutPlugin:
    @staticmethod
    @hookimpl
    def register_expression_functions(register: ExpressionFunctionRegistrar) -> None:
        register("shout", lambda text: text.upper() + "!")
        register("total", lambda values: sum(values))


async def test_plugins_add_functions_to_expressions() -> None:
    with plugin_registered(ShoutPlugin(), name="shout-plugin"):
        assert "shout" in function_names()
        assert value("${shout(input.data)}") == "HELLO!"
        assert value("${total(input.items) * 2}") == 12
        wf = load_workflow(
            {
                "workflow": {
                    "id": "fn",
                    "type": "dag",
                    "nodes": [{"id": "a", "type": "set", "values": {"v": "${shout(input)}"}}],
                }
            }
        )
        assert (await wf.execute("hi", return_run=True)).state == {"v": "HI!"}
    assert "shout" not in function_names()


FAST_CASES = [
    "a > b",
    "a >= b && b <= 10",
    "a == b || a != b",
    "!(a < b)",
    "a + b",
    "a - b * 2",
    "-a",
    "a > 1 ? 'big' : 'small'",
    "size(c) > 1",
    "c.size()",
    "a in [1, 2, 3]",
    "'x' in d",
    "d.x",
    "d['x']",
    "c[0]",
    "s.startsWith('ab') && s.endsWith('z')",
    "s + '!'",
    "[a, b]",
    "a == null",
    "(a + 1) * (b - 1)",
]
scalar = st.one_of(
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, width=32),
    st.booleans(),
    st.none(),
    st.text(alphabet="abxz", max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(FAST_CASES),
    scalar,
    scalar,
    st.one_of(st.lists(st.integers(0, 3), max_size=3), st.text(alphabet="ab", max_size=3), scalar),
    st.one_of(st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 3), max_size=2), scalar),
    st.text(alphabet="abz", max_size=4),
)
def test_the_fast_evaluator_agrees_with_cel_or_steps_aside(
    text: str, a: Any, b: Any, c: Any, d: Any, s: str
) -> None:
    from celpy.adapter import json_to_cel

    from gecko.compose.declarative.expressions import _env, _parse, _scan, to_python
    from gecko.compose.declarative.fastcel import compile_fast

    tree = _parse(text)
    fast = compile_fast(tree)
    assert fast is not None, text  # every case is in the compiled subset
    roots, _ = _scan(tree)
    env = {name: {"a": a, "b": b, "c": c, "d": d, "s": s}[name] for name in roots}
    try:
        mine = fast(env)
    except Exception:
        return  # stepped aside: CEL evaluates it
    try:  # CEL itself, on the same values
        result = _env().program(tree).evaluate({k: json_to_cel(v) for k, v in env.items()})
    except Exception as exc:
        result = exc
    assert not isinstance(result, Exception), (text, env, mine, result)
    theirs = to_python(result)
    assert type(mine) is type(theirs) and mine == theirs, (text, env, mine, theirs)


def test_constructs_outside_the_subset_use_cel() -> None:
    from gecko.compose.declarative.expressions import _parse
    from gecko.compose.declarative.fastcel import compile_fast

    for text in ("a / b", "a % 2", "has(d.x)", "c.map(x, x + 1)", "int(a)", "{'k': a}", "0x1F"):
        assert compile_fast(_parse(text)) is None, text
    mixed = compile_expression("input.items[0] > 0.5", names())  # int vs double: CEL's rules
    assert mixed._fast is not None
    with pytest.raises(ExpressionEvaluationError, match="no matching overload"):
        mixed.evaluate(SCOPE, "node 'n'")  # cel-python has no int > double: not computed here
    assert compile_expression("input.items[0] > 0", names()).evaluate(SCOPE, "n") is True
