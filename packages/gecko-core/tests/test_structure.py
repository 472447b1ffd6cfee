"""StructureEngine: lenient JSON extraction, forced tool call or JSON mode, feedback retries."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field, ValidationError

from gecko import StructureEngine
from gecko.core.errors import ConfigurationError, StructuredOutputError
from gecko.core.message import Message, ToolCall
from gecko.core.models.scripted import ScriptedModel
from gecko.core.structure import balanced_objects, json_candidates

pytestmark = pytest.mark.anyio


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str
    age: int = Field(ge=0)


# --- extraction -------------------------------------------------------------------------------


def test_candidates_in_order_raw_fenced_balanced() -> None:
    text = 'Here you go:\n```json\n{"name": "Ada", "age": 36}\n```\nand also {"x": 1}'
    candidates = list(json_candidates(text))
    assert candidates[0] == text.strip()
    assert candidates[1] == '{"name": "Ada", "age": 36}'
    assert '{"x": 1}' in candidates


def test_json_fence_preferred_over_other_fences() -> None:
    text = '```python\nprint(1)\n```\n```json\n{"a": 1}\n```'
    assert list(json_candidates(text))[1] == '{"a": 1}'


def test_balanced_matching_ignores_braces_inside_strings() -> None:
    text = 'Result: {"note": "a } brace and a \\" quote {", "n": {"deep": 1}} trailing }'
    assert (
        next(balanced_objects(text)) == '{"note": "a } brace and a \\" quote {", "n": {"deep": 1}}'
    )
    assert list(balanced_objects("no braces")) == []
    assert list(balanced_objects('{"open": "never closed"')) == []


def test_parse_fallbacks() -> None:
    engine = StructureEngine(Person)
    assert engine.parse('{"name": "Ada", "age": 36}') == Person(name="Ada", age=36)
    assert engine.parse('```json\n{"name": "Ada", "age": 36}\n```').name == "Ada"
    assert engine.parse('Sure! {"name": "Bob {x}", "age": 7} Hope that helps.').name == "Bob {x}"


def test_parse_errors_carry_raw_text_and_validation_errors() -> None:
    engine = StructureEngine(Person)
    with pytest.raises(StructuredOutputError) as info:
        engine.parse('{"name": "Ada", "age": -3}')
    error = info.value
    assert error.raw_text == '{"name": "Ada", "age": -3}'
    assert [e["loc"] for e in error.errors] == [("age",)]
    # pydantic's own error for the same input, passed through (its codes are pydantic's to name)
    with pytest.raises(ValidationError) as direct:
        Person.model_validate_json('{"name": "Ada", "age": -3}')
    assert error.errors[0]["type"] == direct.value.errors()[0]["type"]
    assert "field 'age'" in error.message

    with pytest.raises(StructuredOutputError, match="contains no JSON object") as info:
        engine.parse("I don't know.")
    assert info.value.errors[0]["type"] == "json_invalid"


def test_rejects_non_models() -> None:
    with pytest.raises(ConfigurationError, match="pydantic BaseModel subclass"):
        StructureEngine(dict)  # type: ignore[type-var]
    with pytest.raises(ConfigurationError, match="max_retries"):
        StructureEngine(Person, max_retries=-1)


def test_request_shapes() -> None:
    engine = StructureEngine(Person)
    tool = engine.tool_schema()["function"]
    assert tool["name"] == "final_result"
    assert (
        tool["description"] == "Give the final answer as a Person: A person mentioned in the text."
    )
    assert tool["parameters"]["required"] == ["name", "age"]
    assert engine.tool_choice() == {"type": "function", "function": {"name": "final_result"}}
    fmt = engine.response_format()
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Person"
    assert fmt["json_schema"]["schema"] == tool["parameters"]
    assert engine.request(ScriptedModel())["tool_choice"] == engine.tool_choice()
    assert engine.request(ScriptedModel(supports_tools=False)) == {"response_format": fmt}


# --- generation -------------------------------------------------------------------------------


async def test_forced_tool_call_when_the_model_supports_tools() -> None:
    model = ScriptedModel()  # automatic: honours the forced tool_choice
    person = await StructureEngine(Person).generate(model, [Message.user("Ada is 36")])
    assert isinstance(person, Person)
    [call] = model.calls
    assert call.tool_choice == {"type": "function", "function": {"name": "final_result"}}
    assert call.tool_names == ["final_result"] and call.response_format is None


async def test_json_mode_when_the_model_has_no_tools() -> None:
    model = ScriptedModel(supports_tools=False)
    person, usage = await StructureEngine(Person).generate_with_usage(model, [Message.user("Ada")])
    assert isinstance(person, Person) and usage.total_tokens > 0
    [call] = model.calls
    assert call.tools is None and call.tool_choice is None
    assert call.response_format is not None
    assert call.response_format["json_schema"]["schema"]["required"] == ["name", "age"]


async def test_malformed_answer_is_repaired_on_retry_with_feedback() -> None:
    model = ScriptedModel(
        [
            ToolCall(name="final_result", arguments={"name": "Ada", "age": "old"}),
            ToolCall(name="final_result", arguments='{"name": "Ada", '),
            ToolCall(name="final_result", arguments={"name": "Ada", "age": 36}),
        ]
    )
    person = await StructureEngine(Person, max_retries=2).generate(model, [Message.user("Ada")])
    assert person == Person(name="Ada", age=36)
    second = model.calls[1].messages
    # the failed call got a tool result telling the model what to fix
    assert (
        second[-1].role.value == "tool" and second[-1].tool_call_id == second[-2].tool_calls[0].id
    )
    assert "field 'age'" in second[-1].text and "Answer again" in second[-1].text
    assert "no JSON object" in model.calls[2].messages[-1].text


async def test_json_mode_feedback_is_a_user_message() -> None:
    model = ScriptedModel(
        ['{"name": "Ada"}', '```json\n{"name": "Ada", "age": 36}\n```'], supports_tools=False
    )
    person = await StructureEngine(Person).generate(model, [Message.user("Ada")])
    assert person.age == 36
    feedback = model.calls[1].messages[-1]
    assert feedback.role.value == "user" and "field 'age': missing required field" in feedback.text


async def test_failing_after_the_retry_limit() -> None:
    answers = ['{"name": "Ada", "age": -1}', "no idea", '{"name": 5, "age": -2}']
    model = ScriptedModel(answers, supports_tools=False)
    with pytest.raises(StructuredOutputError) as info:
        await StructureEngine(Person, max_retries=2).generate(model, [Message.user("Ada")])
    error = info.value
    assert len(model.calls) == 3
    assert error.raw_text == answers[-1]
    assert {e["loc"] for e in error.errors} == {("name",), ("age",)}
    assert error.message.startswith("no valid Person after 3 attempts")
    assert error.context["attempts"] == 3 and error.hint


async def test_other_tool_calls_get_a_not_run_result() -> None:
    model = ScriptedModel(
        [
            [
                ToolCall(name="search", arguments={}),
                ToolCall(name="final_result", arguments={"name": "A"}),
            ],
            ToolCall(name="final_result", arguments={"name": "A", "age": 1}),
        ]
    )
    await StructureEngine(Person).generate(model, [Message.user("x")])
    results = [m for m in model.calls[1].messages if m.role.value == "tool"]
    assert [m.name for m in results] == ["search", "final_result"]
    assert results[0].text.startswith("Not run")
    assert json.loads(model.calls[1].messages[1].tool_calls[1].arguments) == {"name": "A"}
