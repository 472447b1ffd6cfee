"""Prompt templates: validation, safe rendering, registry and composition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gecko.core.errors import NotRegisteredError, PromptError, PromptNotFoundError
from gecko.core.prompts import PromptRegistry, PromptTemplate, compose_prompt, describe_tool


def test_render_fills_variables() -> None:
    template = PromptTemplate("Hello {name}, you have {count} new messages.", name="greet")
    assert template.variables == frozenset({"name", "count"})
    assert template.render(name="Ada", count=3) == "Hello Ada, you have 3 new messages."


def test_escaped_braces_and_format_specs() -> None:
    template = PromptTemplate('Reply as JSON like {{"score": {score:.2f}}} for {item!r}')
    assert template.variables == frozenset({"score", "item"})
    assert (
        template.render(score=0.5, item="tea") == "Reply as JSON like {\"score\": 0.50} for 'tea'"
    )


def test_values_are_inserted_verbatim_and_never_reinterpreted() -> None:
    template = PromptTemplate("Question: {question}")
    hostile = "{question.__class__.__mro__} {{x}} {0}"
    assert template.render(question=hostile) == f"Question: {hostile}"


def test_unicode_variable_names() -> None:
    assert PromptTemplate("你好，{名字}！").render(名字="小明") == "你好，小明！"  # noqa: RUF001


def test_missing_variable_names_the_template_and_variable() -> None:
    template = PromptTemplate("Hi {name}, about {topic}", name="intro")
    with pytest.raises(PromptError) as caught:
        template.render(name="Ada")
    assert "template 'intro' needs a value for variable 'topic'" in str(caught.value)
    assert caught.value.context == {"template": "intro", "variable": "topic"}


def test_unknown_variable_names_the_template_and_variable() -> None:
    template = PromptTemplate("Hi {name}", name="intro")
    with pytest.raises(PromptError, match="template 'intro' has no variable 'nmae'"):
        template.render(name="Ada", nmae="typo")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{user.__class__.__init__.__globals__}", "not allowed"),
        ("{items[0]}", "not allowed"),
        ("{}", "positional placeholder"),
        ("{0}", "positional placeholder"),
        ("{value:{width}}", "nested placeholder"),
        ("{unclosed", "malformed"),
        ("a } b", "malformed"),
    ],
)
def test_unsafe_or_malformed_templates_are_rejected_when_built(text: str, message: str) -> None:
    with pytest.raises(PromptError, match=message) as caught:
        PromptTemplate(text, name="bad")
    assert "template 'bad'" in str(caught.value)


def test_bad_format_spec_names_the_variable() -> None:
    template = PromptTemplate("{amount:d}", name="money")
    with pytest.raises(
        PromptError, match="template 'money': variable 'amount' cannot be formatted"
    ):
        template.render(amount="ten")


def test_unnamed_templates_say_so() -> None:
    with pytest.raises(PromptError, match="template <unnamed> needs a value for variable 'x'"):
        PromptTemplate("{x}").render()


def test_non_string_templates_are_rejected() -> None:
    with pytest.raises(PromptError, match="must be a string"):
        PromptTemplate(42)  # type: ignore[arg-type]


def test_partial_binds_some_variables() -> None:
    template = PromptTemplate("{greeting}, {name}!", name="hello")
    bound = template.partial(greeting="Bonjour")
    assert bound.required == frozenset({"name"})
    assert bound.render(name="Ada") == "Bonjour, Ada!"
    assert bound.render(name="Bo", greeting="Hi") == "Hi, Bo!"
    assert template.required == frozenset({"greeting", "name"})  # the original is unchanged
    with pytest.raises(PromptError, match="no variable 'other'"):
        template.partial(other=1)


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "support.txt"
    path.write_text("You help with {product}.", encoding="utf-8")
    template = PromptTemplate.from_file(path)
    assert template.name == "support"
    assert template.render(product="Gecko") == "You help with Gecko."


def test_registry_register_get_render() -> None:
    registry = PromptRegistry({"greet": "Hello {name}"})
    registry.register("bye", PromptTemplate("Bye {name}"))
    assert registry.names() == ["bye", "greet"]
    assert "greet" in registry and len(registry) == 2
    assert registry.get("greet").name == "greet"
    assert registry.render("bye", name="Ada") == "Bye Ada"
    with pytest.raises(PromptError, match="template 'greet' needs a value"):
        registry.render("greet")


def test_registry_refuses_silent_overwrites() -> None:
    registry = PromptRegistry()
    registry.register("x", "one")
    with pytest.raises(PromptError, match="already registered"):
        registry.register("x", "two")
    registry.register("x", "two", replace=True)
    assert registry.render("x") == "two"
    assert registry.unregister("x") and not registry.unregister("x")


def test_registry_unknown_name_lists_known_ones() -> None:
    registry = PromptRegistry({"a": "A", "b": "B"})
    with pytest.raises(
        PromptNotFoundError, match=r"no prompt named 'c' is registered \(known: a, b\)"
    ) as caught:
        registry.get("c")
    assert isinstance(caught.value, PromptError)
    assert isinstance(caught.value, NotRegisteredError)


class WeatherTool:
    name = "get_weather"
    description = "Current weather\n   for a city."
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "units": {"enum": ["metric", "imperial"]},
            "days": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["city"],
    }

    async def execute(self, arguments: dict[str, Any]) -> Any:
        return "sunny"


def test_compose_system_prompt_tools_and_instructions() -> None:
    system = PromptTemplate("You are {role}.", name="system")
    text = compose_prompt(
        system,
        tools=[
            WeatherTool(),
            {
                "type": "function",
                "function": {"name": "now", "description": "The time.", "parameters": {}},
            },
        ],
        instructions=["Answer in English.", "  ", "Cite sources."],
        values={"role": "a travel assistant"},
    )
    assert text == (
        "You are a travel assistant.\n\n"
        "## Tools\n"
        "You can call these tools:\n"
        "- get_weather(city: string, units?: 'metric' | 'imperial', days?: array[integer]): "
        "Current weather for a city.\n"
        "- now(): The time.\n\n"
        "## Instructions\n"
        "- Answer in English.\n"
        "- Cite sources."
    )


def test_compose_keeps_a_plain_string_as_written() -> None:
    # braces in a plain system prompt are not placeholders unless values are given
    assert compose_prompt('Reply with {"ok": true}') == 'Reply with {"ok": true}'
    assert compose_prompt("Hi {name}", values={"name": "Ada"}) == "Hi Ada"
    with pytest.raises(PromptError, match="template 'system' has no variable 'nme'"):
        compose_prompt("Hi {name}", values={"nme": "Ada"})


def test_describe_tool_without_parameters() -> None:
    class Bare:
        name = "ping"
        description = ""
        parameters: dict[str, Any] = {"type": "object"}

        async def execute(self, arguments: dict[str, Any]) -> Any:
            return None

    assert describe_tool(Bare()) == "ping()"
