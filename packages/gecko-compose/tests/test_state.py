"""StateView and merge: copy-on-read, tombstones, in-place mutation, conflicts, reducers."""

from __future__ import annotations

import operator

import pytest

from gecko.compose.errors import ComposeError, StateConflictError
from gecko.compose.workflow.state import StateView, merge_diffs
from gecko.core.errors import ConfigurationError


def test_reads_copy_mutable_values_so_mutations_stay_private() -> None:
    base = {"items": [1, 2], "name": "x", "nested": {"a": [1]}}
    a, b = StateView(base, {}), StateView(base, {})
    a["items"].append(3)
    a["nested"]["a"].append(2)
    assert b["items"] == [1, 2] and b["nested"] == {"a": [1]}
    assert base == {"items": [1, 2], "name": "x", "nested": {"a": [1]}}
    assert a["items"] is a["items"]  # the node keeps working on its own copy
    assert a.diff().writes == {"items": [1, 2, 3], "nested": {"a": [1, 2]}}
    assert b.diff().writes == {}  # reading without changing is not a write


def test_delete_is_a_tombstone() -> None:
    base = {"k": 1, "j": 2}
    view = StateView(base, {})
    del view["k"]
    assert "k" not in view and list(view) == ["j"] and len(view) == 1
    with pytest.raises(KeyError):
        view["k"]
    with pytest.raises(KeyError):
        del view["missing"]
    diff = view.diff()
    assert diff.deleted == {"k"} and base == {"k": 1, "j": 2}
    merge_diffs(base, [("n", diff)], {})
    assert base == {"j": 2}


def test_write_after_delete_and_delete_of_new_key() -> None:
    view = StateView({"k": 1}, {})
    del view["k"]
    view["k"] = 5
    view["new"] = 1
    del view["new"]
    diff = view.diff()
    assert diff.writes == {"k": 5} and diff.deleted == set()


def test_state_keys_must_be_strings() -> None:
    with pytest.raises(ConfigurationError, match="state keys must be strings"):
        StateView({}, {})[1] = "x"  # type: ignore[index]


def test_two_writers_conflict_naming_key_and_both_nodes() -> None:
    base: dict[str, object] = {"x": 0}
    a, b = StateView(base, {}), StateView(base, {})
    a["x"] = 1
    b["x"] = 2
    with pytest.raises(StateConflictError) as info:
        merge_diffs(base, [("A", a.diff()), ("B", b.diff())], {}, step=3)
    assert info.value.key == "x" and info.value.nodes == ["A", "B"]
    assert (
        "'x'" in str(info.value)
        and "'A' and 'B'" in str(info.value)
        and "reducers" in str(info.value)
    )
    assert base == {"x": 0}  # nothing applied


def test_write_versus_delete_conflicts_but_two_deletes_agree() -> None:
    base = {"x": 0, "y": 0}
    a, b = StateView(base, {}), StateView(base, {})
    a["x"] = 1
    del b["x"]
    with pytest.raises(StateConflictError):
        merge_diffs(base, [("A", a.diff()), ("B", b.diff())], {})
    c, d = StateView(base, {}), StateView(base, {})
    del c["y"]
    del d["y"]
    merge_diffs(base, [("C", c.diff()), ("D", d.diff())], {})
    assert "y" not in base


def test_reducer_folds_updates_in_merge_order() -> None:
    base = {"items": [0]}
    reducers = {"items": operator.add}
    a, b = StateView(base, reducers), StateView(base, reducers)
    a["items"] = [1]
    a["items"] = [2]
    assert a["items"] == [0, 1, 2]  # a node reads the folded value
    b["items"] = [3]
    reduced = merge_diffs(base, [("A", a.diff()), ("B", b.diff())], reducers)
    assert base["items"] == [0, 1, 2, 3] == reduced["items"]


def test_reducer_key_starts_from_first_update_when_missing() -> None:
    base: dict[str, object] = {}
    reducers = {"total": operator.add}
    a, b = StateView(base, reducers), StateView(base, reducers)
    a["total"] = 2
    b["total"] = 5
    merge_diffs(base, [("A", a.diff()), ("B", b.diff())], reducers)
    assert base == {"total": 7}


def test_in_place_mutation_of_reducer_key_is_an_error() -> None:
    view = StateView({"items": [1]}, {"items": operator.add})
    view["items"].append(2)
    with pytest.raises(ComposeError, match="assign the update"):
        view.diff()


def test_uncopyable_values_are_shared_not_lost() -> None:
    import threading

    lock = threading.Lock()
    view = StateView({"lock": lock}, {})
    assert view["lock"] is lock
    assert view.diff().writes == {}
