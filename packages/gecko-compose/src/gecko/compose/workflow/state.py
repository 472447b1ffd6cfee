"""Per-node copy-on-write state, tombstones, and the deterministic merge of a step's changes.

Every node of a step gets its own ``StateView`` over the shared base state:

- reads of immutable values return them as is; mutable values (lists, dicts,
  models...) are copied on first read, so a node mutating what it read never
  leaks into a sibling's view;
- writes go to the view; ``del view[k]`` records a tombstone;
- at the end of the node, a read copy that differs from the base value (an
  in-place mutation) counts as a write, so ``ctx.state["items"].append(x)`` works;
- for keys with a reducer, an assignment is an *update* folded into the current
  value with ``reducer(current, update)`` when the step merges.

``merge_diffs`` applies the nodes' changes in a fixed order and reports two nodes
touching the same key (without a reducer) as a ``StateConflictError``.
"""

from __future__ import annotations

import copy
import enum
import logging
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any

from gecko.compose.errors import ComposeError, StateConflictError
from gecko.core.errors import ConfigurationError

logger = logging.getLogger(__name__)

Reducer = Callable[[Any, Any], Any]
"""``(current, update) -> new value``; must return a new value, not mutate ``current``."""

MISSING: Any = object()
IMMUTABLE_TYPES: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), bytes, complex, frozenset, range}
)


def copy_value(value: Any) -> Any:
    """A deep copy, fast for JSON-like data; the value itself if it cannot be copied."""
    try:
        return _copy(value)
    except RecursionError:
        pass  # a self-referencing structure: deepcopy keeps the cycles
    try:
        return copy.deepcopy(value)
    except Exception:
        logger.debug("state value of type %s cannot be copied; it is shared", type(value).__name__)
        return value


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind in IMMUTABLE_TYPES:
        return value
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is tuple:
        return tuple(_copy(v) for v in value)
    if kind is set:
        return set(value)
    if isinstance(value, enum.Enum):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:
        logger.debug("state value of type %s cannot be copied; it is shared", kind.__name__)
        return value


def _has_value_equality(value: Any) -> bool:
    kind: Any = type(value)
    return kind.__eq__ is not object.__eq__


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except Exception:  # e.g. arrays whose comparison is not a bool: assume changed
        return True


def check_state_key(key: Any) -> str:
    if not isinstance(key, str):
        raise ConfigurationError(
            f"state keys must be strings, got {key!r} ({type(key).__name__})",
            hint="state is persisted as JSON, whose object keys are strings",
        )
    return key


class NodeDiff:
    """What one node changed: plain writes, tombstones, and reducer updates."""

    __slots__ = ("deleted", "updates", "writes")

    def __init__(
        self,
        writes: dict[str, Any] | None = None,
        deleted: set[str] | None = None,
        updates: dict[str, list[Any]] | None = None,
    ) -> None:
        self.writes: dict[str, Any] = writes if writes is not None else {}
        self.deleted: set[str] = deleted if deleted is not None else set()
        self.updates: dict[str, list[Any]] = updates if updates is not None else {}

    def __bool__(self) -> bool:
        return bool(self.writes or self.deleted or self.updates)

    def __repr__(self) -> str:
        return (
            f"NodeDiff(writes={self.writes!r}, deleted={self.deleted!r}, updates={self.updates!r})"
        )

    def assign(self, key: str, value: Any, reducers: Mapping[str, Reducer]) -> None:
        """Record ``state[key] = value`` (an update for reducer keys, unless deleted first)."""
        check_state_key(key)
        if key in reducers and key not in self.deleted and key not in self.writes:
            self.updates.setdefault(key, []).append(value)
        else:
            self.writes[key] = value
            self.deleted.discard(key)
            self.updates.pop(key, None)

    def touched(self) -> Iterator[tuple[str, str]]:
        """(key, how) for every key this diff touches: how is write, delete or update."""
        for key in self.writes:
            yield key, "write"
        for key in self.deleted:
            yield key, "delete"
        for key in self.updates:
            yield key, "update"


class StateView(MutableMapping[str, Any]):
    """One node's copy-on-write view of the workflow state (see the module docstring)."""

    __slots__ = ("_base", "_diff", "_reads", "_reducers")

    def __init__(self, base: Mapping[str, Any], reducers: Mapping[str, Reducer]) -> None:
        self._base = base
        self._reducers = reducers
        self._diff = NodeDiff()
        self._reads: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"StateView({dict(self)!r})"

    def __getitem__(self, key: str) -> Any:
        diff = self._diff
        if key in diff.writes:
            return diff.writes[key]
        if key in diff.updates:
            return self._folded(key)
        if key in diff.deleted:
            raise KeyError(key)
        reads = self._reads
        if key in reads:
            return reads[key]
        value = self._base[key]
        if type(value) in IMMUTABLE_TYPES:
            return value
        copied = reads[key] = copy_value(value)
        return copied

    def __setitem__(self, key: str, value: Any) -> None:
        self._reads.pop(key, None)
        self._diff.assign(key, value, self._reducers)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        diff = self._diff
        diff.writes.pop(key, None)
        diff.updates.pop(key, None)
        self._reads.pop(key, None)
        if key in self._base:
            diff.deleted.add(key)

    def __contains__(self, key: object) -> bool:
        diff = self._diff
        if key in diff.writes or key in diff.updates:
            return True
        return key not in diff.deleted and key in self._base

    def __iter__(self) -> Iterator[str]:
        diff = self._diff
        for key in self._base:
            if key not in diff.deleted:
                yield key
        for key in (*diff.writes, *diff.updates):
            if key not in self._base:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def _folded(self, key: str) -> Any:
        value = self._base.get(key, MISSING)
        reducer = self._reducers[key]
        for update in self._diff.updates[key]:
            value = update if value is MISSING else reducer(value, update)
        return value

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of what this node sees now."""
        return {key: self[key] for key in self}

    def diff(self, node: str | None = None) -> NodeDiff:
        """This node's changes, including in-place mutations of values it read."""
        diff = self._diff
        base = self._base
        for key, copied in self._reads.items():
            original = base.get(key, MISSING)
            if copied is original or not _has_value_equality(copied):
                continue
            if _differs(copied, original):
                if key in self._reducers:
                    by = f" by node {node!r}" if node else ""
                    raise ComposeError(
                        f"state key {key!r} has a reducer but was changed in place{by}",
                        hint=f"assign the update instead: ctx.state[{key!r}] = <update>; the reducer "
                        "combines it with the current value",
                        key=key,
                        node=node,
                    )
                diff.writes[key] = copied
        self._reads = {}
        return diff


def merge_diffs(
    state: dict[str, Any],
    diffs: Sequence[tuple[str, NodeDiff]],
    reducers: Mapping[str, Reducer],
    *,
    step: int | None = None,
) -> dict[str, Any]:
    """Apply the diffs of one step to ``state`` in the given (deterministic) node order.

    Returns the new values of keys combined by a reducer. Raises StateConflictError
    (before changing anything) when two nodes touch the same key incompatibly:
    two writes, a write and a delete, or a write/delete and a reducer update.
    Two deletes of one key agree; reducer updates from several nodes fold in order.
    """
    if len(diffs) > 1:
        _check_conflicts(diffs, step)
    reduced: dict[str, Any] = {}
    for _node, diff in diffs:
        for key in diff.deleted:
            state.pop(key, None)
        if diff.writes:
            state.update(diff.writes)
        for key, updates in diff.updates.items():
            reducer = reducers[key]
            value = state.get(key, MISSING)
            for update in updates:
                value = update if value is MISSING else reducer(value, update)
            state[key] = reduced[key] = value
    return reduced


def _check_conflicts(diffs: Sequence[tuple[str, NodeDiff]], step: int | None) -> None:
    seen: dict[str, tuple[str, str]] = {}
    for node, diff in diffs:
        for key, how in diff.touched():
            previous = seen.get(key)
            if previous is None:
                seen[key] = (node, how)
                continue
            other, other_how = previous
            if other == node:
                continue
            if how == other_how and how in ("delete", "update"):
                continue
            raise StateConflictError(key, [other, node], step=step)
