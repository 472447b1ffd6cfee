"""Strict JSON: nothing is stringified or dropped silently."""

from __future__ import annotations

import math

import pytest

from gecko.core import serialization
from gecko.core.errors import CorruptDataError, SerializationError


def test_round_trip_is_exact() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": "壁虎"}}
    assert serialization.loads(serialization.dumps(value)) == value


@pytest.mark.parametrize(
    ("value", "path", "problem"),
    [
        ({"a": {"b": {1, 2}}}, "$.a.b", "set"),
        ({"a": [1, object()]}, "$.a[1]", "object"),
        ({"n": math.nan}, "$.n", "nan"),
        ({"x": {3: "three"}}, "$.x", "dict key 3"),
    ],
)
def test_rejects_with_key_and_path(value: object, path: str, problem: str) -> None:
    with pytest.raises(SerializationError) as info:
        serialization.dumps(value, key="state:1")
    message = str(info.value)
    assert "'state:1'" in message and path in message and problem in message
    assert info.value.context["path"] == path


def test_circular_reference() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(SerializationError) as info:
        serialization.dumps(loop, key="k")
    assert "circular" in str(info.value)


def test_corrupt_document_names_the_key() -> None:
    with pytest.raises(CorruptDataError) as info:
        serialization.loads('{"a": ', key="session:9")
    assert "session:9" in str(info.value)


def test_shared_sub_objects_are_not_circular() -> None:
    shared = {"x": [1, 2]}
    value = {"a": shared, "b": [shared, shared]}
    assert serialization.loads(serialization.dumps(value)) == value


def test_first_problem_is_reported_in_document_order() -> None:
    with pytest.raises(SerializationError) as info:
        serialization.dumps({"a": [1, {2}], "b": object()}, key="k")
    assert info.value.context["path"] == "$.a[1]"


def test_deep_nesting_is_a_clear_error_or_works() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(50):
        child: list[object] = []
        node.append(child)
        node = child
    assert serialization.loads(serialization.dumps(deep)) == deep
