"""Every backend's filter translation agrees with the reference semantics (``matches``).

Random records (awkward field names, strings with quotes, backslashes, newlines and
SQL/expression injection attempts, ints, floats, booleans, missing fields) and random
filter trees are evaluated by each real database and by the pure-Python reference.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from gecko.core.errors import FilterError
from gecko.core.protocols import VectorRecord
from gecko.core.vectors.filters import matches, parse_filter

pytestmark = pytest.mark.anyio

FIELDS = ["source", "year", "Weird Key", "we'ird\"key\\", "文本", "flag", "x.y"]
STRINGS = [
    "a.md",
    "b.md",
    "it's",
    'say "hi"',
    "back\\slash",
    "line\nbreak",
    "' OR 1=1 --",
    '" or true or "',
    "文本🦎",
    "",
    "1",
]
NUMBERS = [0, 1, 2, 2020, 2021, -5, 1.5, 2020.0, 1e12, -0.25]
BOOLS = [True, False]
DIM = 8


def random_value(rng: random.Random) -> Any:
    pool = rng.choice([STRINGS, NUMBERS, BOOLS])
    return rng.choice(pool)


def random_records(rng: random.Random, count: int) -> list[VectorRecord]:
    records = []
    for i in range(count):
        metadata = {f: random_value(rng) for f in FIELDS if rng.random() < 0.6}
        vector = [rng.uniform(-1, 1) for _ in range(DIM)]
        records.append(VectorRecord(f"r{i}", vector, f"text {i}", metadata))
    return records


def random_condition(rng: random.Random) -> dict[str, Any]:
    field = rng.choice(FIELDS)
    op = rng.choice(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "implicit"])
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return {field: {op: rng.choice(NUMBERS)}}
    if op in ("$in", "$nin"):
        return {field: {op: [random_value(rng) for _ in range(rng.randint(1, 4))]}}
    if op == "implicit":
        return {field: random_value(rng)}
    return {field: {op: random_value(rng)}}


def random_filter(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    if depth >= 2 or rng.random() < 0.5:
        return random_condition(rng)
    combinator = rng.choice(["$and", "$or"])
    return {combinator: [random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]}


async def test_filters_match_reference(backend_store: Any) -> None:
    rng = random.Random(20240607)
    records = random_records(rng, 60)
    await backend_store.upsert(records)
    by_id = {r.id: r for r in records}
    probe = [1.0] * DIM
    for _ in range(60):
        filter = random_filter(rng)
        node = parse_filter(filter)
        expected = {r.id for r in records if matches(node, r.metadata)}
        assert await backend_store.count(filter) == len(expected), filter
        found = await backend_store.search(probe, top_k=len(records), filter=filter)
        assert {m.id for m in found} == expected, filter
        for match in found:
            assert match.metadata == by_id[match.id].metadata


async def test_injection_attempts_are_plain_values(backend_store: Any) -> None:
    await backend_store.upsert(
        [
            VectorRecord("safe", [1.0] * DIM, "t", {"name": "ok"}),
            VectorRecord("evil", [1.0] * DIM, "t", {"name": "' OR 1=1 --"}),
        ]
    )
    for attempt in ["' OR 1=1 --", "x' OR 'a'='a", 'x" or true or "', "x\\", "x') OR ('a'='a"]:
        found = await backend_store.count({"name": attempt})
        assert found == (1 if attempt == "' OR 1=1 --" else 0), attempt
    assert await backend_store.delete(filter={"name": "x' OR 'a'='a"}) == 0
    assert await backend_store.count() == 2


async def test_missing_field_never_matches_negations(backend_store: Any) -> None:
    await backend_store.upsert(
        [
            VectorRecord("with", [1.0] * DIM, "t", {"lang": "en"}),
            VectorRecord("other", [1.0] * DIM, "t", {"lang": "zh"}),
            VectorRecord("number", [1.0] * DIM, "t", {"lang": 5}),
            VectorRecord("without", [1.0] * DIM, "t", {}),
        ]
    )
    assert await backend_store.count({"lang": {"$ne": "en"}}) == 2
    assert await backend_store.count({"lang": {"$nin": ["en", 5]}}) == 1
    assert await backend_store.count({"lang": {"$lt": 10}}) == 1


async def test_booleans_never_equal_numbers(backend_store: Any) -> None:
    await backend_store.upsert(
        [
            VectorRecord("true", [1.0] * DIM, "t", {"v": True}),
            VectorRecord("one", [1.0] * DIM, "t", {"v": 1}),
            VectorRecord("one-float", [1.0] * DIM, "t", {"v": 1.0}),
            VectorRecord("zero", [1.0] * DIM, "t", {"v": 0}),
        ]
    )
    assert {m.id for m in await backend_store.search([1.0] * DIM, top_k=9, filter={"v": True})} == {
        "true"
    }
    assert {m.id for m in await backend_store.search([1.0] * DIM, top_k=9, filter={"v": 1})} == {
        "one",
        "one-float",
    }
    assert await backend_store.count({"v": {"$gte": 0}}) == 3
    assert await backend_store.count({"v": {"$in": [True, 0]}}) == 2


async def test_non_finite_filter_value_is_clear_error(backend_store: Any) -> None:
    await backend_store.upsert([VectorRecord("a", [1.0] * DIM, "t", {"year": 2020})])
    with pytest.raises(FilterError, match="finite"):
        await backend_store.count({"year": {"$lt": float("inf")}})
