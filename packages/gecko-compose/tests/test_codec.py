"""Checkpoint encoding: lossless for supported types, refuses the rest with node/key/path."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from gecko.compose import MemberResult, register_type
from gecko.compose.errors import MemberError, UnregisteredTypeError
from gecko.compose.workflow.codec import TAG, decode, encode
from gecko.core.errors import CorruptDataError, SerializationError
from gecko.core.message import Message
from gecko.core.output import AgentOutput, TokenUsage


class Verdict(BaseModel):
    label: str
    score: float


class Unregistered(BaseModel):
    x: int


register_type(Verdict)


def roundtrip(value: object) -> object:
    import json

    return decode(json.loads(json.dumps(encode(value, node="n"))))


def test_json_values_pass_through_unchanged() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": {}}}
    assert encode(value) == value and roundtrip(value) == value


def test_tuples_sets_bytes_and_tag_like_dicts_round_trip() -> None:
    value = {
        "t": (1, (2, 3)),
        "s": {3, 1},
        "f": frozenset({"a"}),
        "b": b"\x00\xff",
        TAG: "user data",
    }
    assert roundtrip(value) == value
    assert type(roundtrip((1,))) is tuple


def test_registered_models_round_trip_including_untyped_model_fields() -> None:
    output = AgentOutput(
        content="ok",
        usage=TokenUsage.of(3, 4),
        parsed=Verdict(label="good", score=0.5),
        messages=[Message.user("hi")],
    )
    restored = roundtrip(output)
    assert isinstance(restored, AgentOutput)
    assert restored.parsed == Verdict(label="good", score=0.5)
    assert restored.usage.total_tokens == 7 and restored.messages[0].text == "hi"


def test_unregistered_model_is_refused_when_saving_and_when_loading() -> None:
    with pytest.raises(UnregisteredTypeError) as info:
        encode({"x": Unregistered(x=1)}, node="B", key="result")
    assert (
        "'result'" in str(info.value)
        and "'B'" in str(info.value)
        and "register_type" in str(info.value)
    )
    stored = {TAG: "model", "type": "os:system", "data": {}}
    with pytest.raises(UnregisteredTypeError, match="never imports"):
        decode(stored)
    assert decode(stored, strict=False) == stored


def test_unserializable_value_names_node_key_and_path() -> None:
    with pytest.raises(SerializationError) as info:
        encode({"rows": [1, {"when": object()}]}, node="Fetch", key="data")
    message = str(info.value)
    assert "state key 'data' written by node 'Fetch'" in message
    assert "$.rows[1].when" in message and "object" in message
    assert info.value.context["node"] == "Fetch" and info.value.context["key"] == "data"


def test_nan_and_non_string_keys_are_refused() -> None:
    with pytest.raises(SerializationError, match="nan"):
        encode(float("nan"), node="n")
    with pytest.raises(SerializationError, match="keys must be strings"):
        encode({1: "x"}, node="n")


def test_member_results_keep_errors_as_member_errors() -> None:
    value = [
        MemberResult(result="a", member_index=0),
        MemberResult(error=ValueError("boom"), member_index=1, is_success=False),
    ]
    restored = roundtrip(value)
    assert isinstance(restored, list)
    assert restored[0] == MemberResult(result="a", member_index=0)
    assert (
        isinstance(restored[1].error, MemberError) and str(restored[1].error) == "ValueError: boom"
    )
    assert not restored[1].is_success


def test_unknown_tag_is_corrupt_data() -> None:
    with pytest.raises(CorruptDataError):
        decode({TAG: "martian"})
