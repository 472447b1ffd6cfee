"""Writing a run's checkpoints (incrementally, with retention) and reading them back.

The engine hands the ``Checkpointer`` raw entries (see :mod:`.record`) holding
live values; they are encoded when written — in a worker thread when they are
large, so a big state never stalls the event loop. Each checkpoint carries only
what changed since the previous one, so storage grows with the data a run
produces, not with steps x state. ``keep_last=N`` bounds how many checkpoints a
run keeps: when a run has more than ``2N``, all but the last ``N`` are squashed
into one snapshot (in the store's own transaction), so history stays replayable
from the snapshot on. Nothing is ever truncated: a value that cannot be encoded
fails the checkpoint with an error naming the node and the state key.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
from pydantic import BaseModel

from gecko.compose.errors import RunNotFoundError
from gecko.compose.team import MemberResult
from gecko.compose.workflow import codec
from gecko.compose.workflow.record import FORMAT, RunRecord, fold
from gecko.core.protocols import Checkpoint, CheckpointStore

logger = logging.getLogger(__name__)

_MAX_BACKLOG = 1024
"""Entries waiting for the async writer before the run waits for it (back-pressure)."""
_INLINE_BUDGET = 4096
"""Rough encoding work (container items + string length / 64) done on the event loop."""


class CheckpointStrategy(str, enum.Enum):
    """When a workflow with ``storage`` writes checkpoints.

    - ``ALWAYS``: at the start, after every step (and as nodes of a parallel step
      finish; nodes finishing together share one write), and when the run ends or
      fails: a crash loses at most the nodes running at that moment.
    - ``FINAL``: once, when the run ends or fails (everything it did, incrementally).
    - ``MANUAL``: only after steps in which a node called ``ctx.request_checkpoint()``.
    """

    ALWAYS = "always"
    FINAL = "final"
    MANUAL = "manual"


class Checkpointer:
    """Buffers entries of one run and appends them to a CheckpointStore as checkpoints.

    ``durability="sync"`` and ``"step"``: ``flush`` returns once the checkpoint is stored
    (with ``"sync"`` the runner also stores each node of a parallel step as it finishes:
    ``per_node``). ``durability="async"``: ``flush`` hands the entries to a background writer
    (started in ``group``, the run's task group) and returns at once; entries
    that arrive while a write is in flight are written together, in order, by
    the next write. ``drain`` waits for the writer and raises its error, if any.
    """

    def __init__(
        self,
        store: CheckpointStore,
        run_id: str,
        *,
        strategy: CheckpointStrategy,
        keep_last: int | None = None,
        stored: int = 0,
        durability: str = "sync",
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.strategy = strategy
        self.keep_last = keep_last
        self.durability = durability
        self.wait = durability in ("sync", "step")
        self.per_node = durability == "sync"
        self.group: anyio.abc.TaskGroup | None = None  # where the async writer runs
        self.stored = stored  # checkpoints the run has in the store
        self.written = 0  # checkpoints written by this invocation
        self._buffer: list[dict[str, Any]] = []
        self._queue: list[dict[str, Any]] = []  # handed to the writer, not yet stored
        self._writing = False
        self._idle: anyio.Event | None = None
        self._error: BaseException | None = None

    def add(self, entry: dict[str, Any]) -> None:
        self._buffer.append(entry)

    async def flush(self) -> None:
        """Write everything buffered as one checkpoint (nothing if the buffer is empty).

        If writing fails, the entries stay buffered: nothing is dropped silently.
        """
        if not self._buffer:
            return
        entries, self._buffer = self._buffer, []
        if not self.wait:
            await self._enqueue(entries)
            return
        try:
            await self._append(entries)
        except BaseException:
            self._buffer[:0] = entries
            raise

    async def write_node(self, entry: dict[str, Any]) -> None:
        """Store a node's completion now, batching completions that arrive during a write.

        With ``durability="sync"`` this returns only once ``entry`` is stored (by this
        task's write, or by the write in flight it joined), so the node's completion
        can be announced: durable before visible.
        """
        if not self.wait:
            await self._enqueue([entry])
            return
        self._queue.append(entry)
        while any(queued is entry for queued in self._queue):
            if self._writing:
                await self.drain()  # the write in flight takes the entry along
            else:
                self._writing = True
                await self._write_queue()  # for itself and whoever joins; raises if it fails

    async def drain(self) -> None:
        """Wait until every handed-over entry is stored; raise the writer's error, if any."""
        while self._writing:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()
        if self._error is not None:
            raise self._error

    async def _enqueue(self, entries: list[dict[str, Any]]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.extend(entries)
        if self._writing:
            if not self.wait and len(self._queue) > _MAX_BACKLOG:
                await self.drain()  # back-pressure: the store is slower than the run
            return  # the writer in flight picks them up
        self._writing = True
        if self.wait:
            await self._write_queue()  # this task writes, for itself and for whoever joins
        else:
            assert self.group is not None, "async durability needs the run's task group"
            self.group.start_soon(self._write_queue)

    async def _write_queue(self) -> None:
        try:
            while self._queue:
                entries, self._queue = self._queue, []
                try:
                    await self._append(entries)
                except Exception as exc:
                    self._queue[:0] = entries
                    if self.wait:
                        raise
                    self._error = exc
                    return
        finally:
            self._writing = False
            if self._idle is not None:
                self._idle.set()
                self._idle = None

    async def _append(self, entries: list[dict[str, Any]]) -> None:
        if _is_small(entries):
            encoded = encode_entries(entries)
        else:
            encoded = await anyio.to_thread.run_sync(encode_entries, entries)
        await self.store.append_checkpoint(self.run_id, {"format": FORMAT, "entries": encoded})
        self.written += 1
        self.stored += 1
        if self.keep_last is not None and self.stored > 2 * self.keep_last:
            await self._apply_retention(self.keep_last)

    async def _apply_retention(self, keep: int) -> None:
        checkpoints = await self.store.list_checkpoints(self.run_id)
        if len(checkpoints) <= keep + 1:
            self.stored = len(checkpoints)
            return
        through = checkpoints[-keep - 1].seq
        await compact_checkpoints(self.store, self.run_id, through, checkpoints)
        self.stored = keep + 1
        logger.debug("run %r: compacted checkpoints through seq %d", self.run_id, through)


def encode_entries(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Encode the live values of raw entries (errors name the node and state key)."""
    return [_encode_entry(entry) for entry in entries]


def _encode_entry(entry: dict[str, Any]) -> dict[str, Any]:
    kind = entry["kind"]
    encode = codec.encode
    if kind == "node":
        node = entry["node"]
        out = {
            "kind": "node",
            "step": entry["step"],
            "node": node,
            "output": encode(entry["output"], node=node),
            "attempts": entry["attempts"],
            "duration": entry["duration"],
        }
        if entry.get("writes"):
            out["writes"] = {k: encode(v, node=node, key=k) for k, v in entry["writes"].items()}
        if entry.get("deleted"):
            out["deleted"] = list(entry["deleted"])
        if entry.get("updates"):
            out["updates"] = {
                k: [encode(v, node=node, key=k) for v in values]
                for k, values in entry["updates"].items()
            }
        if entry.get("next") is not None:
            out["next"] = entry["next"]
        if entry.get("caught") is not None:
            out["caught"] = entry["caught"]
        return out
    if kind == "step":
        out = {
            "kind": "step",
            "step": entry["step"],
            "nodes": entry["nodes"],
            "plan": entry["plan"],
        }
        if entry.get("skipped"):
            out["skipped"] = entry["skipped"]
        if entry.get("reduced"):
            out["reduced"] = {k: encode(v, key=k) for k, v in entry["reduced"].items()}
        if entry.get("wave") is not None:
            out["wave"] = entry["wave"]
        if entry.get("compensate"):
            out["compensate"] = [list(pair) for pair in entry["compensate"]]
        return out
    if kind == "start":
        out = dict(entry)
        out["input"] = encode(entry["input"], what="the workflow input")
        out["state"] = {k: encode(v, key=k) for k, v in entry["state"].items()}
        return out
    if kind == "interrupted":
        asked = entry["interrupts"]
        return {
            "kind": "interrupted",
            "step": entry["step"],
            "interrupts": {
                key: {
                    **i,
                    "payload": encode(
                        i.get("payload"),
                        node=i["node"],
                        what=f"the interrupt payload of node {i['node']!r}",
                    ),
                }
                for key, i in asked.items()
            },
        }
    if kind == "answers":
        return {
            "kind": "answers",
            "answers": {
                k: encode(v, what=f"the answer to {k!r}") for k, v in entry["answers"].items()
            },
        }
    return entry  # failed / end / snapshot carry no live values


def _is_small(entries: Sequence[dict[str, Any]]) -> bool:
    budget = _INLINE_BUDGET
    stack: list[Any] = [
        entry.get(field)
        for entry in entries
        for field in ("output", "writes", "updates", "reduced", "input", "state")
    ]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is str:
            budget -= 1 + len(value) // 64
        elif kind is dict:
            budget -= len(value)
            stack.extend(value.values())
        elif kind is list or kind is tuple or kind is set:
            budget -= len(value)
            stack.extend(value)
        elif isinstance(value, BaseModel):
            budget -= 1
            stack.extend(value.__dict__.values())
        elif kind is MemberResult:
            budget -= 1
            stack.append(value.result)
        else:
            budget -= 1
        if budget < 0:
            return False
    return True


async def load_checkpoints(
    store: CheckpointStore, run_id: str, *, upto_seq: int | None = None
) -> list[Checkpoint]:
    checkpoints = await store.list_checkpoints(run_id)
    if not checkpoints:
        raise RunNotFoundError(
            f"no checkpoints stored for run {run_id!r}",
            hint="resume works for runs executed with storage=... and a checkpoint strategy that "
            "wrote something (ALWAYS writes from the start)",
            run_id=run_id,
        )
    if upto_seq is not None:
        if upto_seq < checkpoints[0].seq:
            raise RunNotFoundError(
                f"run {run_id!r} has no checkpoint {upto_seq}: the earliest kept is {checkpoints[0].seq} "
                "(older ones were compacted)",
                run_id=run_id,
                seq=upto_seq,
            )
        checkpoints = [c for c in checkpoints if c.seq <= upto_seq]
    return checkpoints


async def load_record(
    store: CheckpointStore, run_id: str, *, upto_seq: int | None = None
) -> RunRecord:
    """Fold a run's checkpoints (up to ``upto_seq``) into a RunRecord, off the event loop."""
    checkpoints = await load_checkpoints(store, run_id, upto_seq=upto_seq)
    return await anyio.to_thread.run_sync(fold, run_id, checkpoints)


async def compact_checkpoints(
    store: CheckpointStore,
    run_id: str,
    through_seq: int | None = None,
    checkpoints: Sequence[Checkpoint] | None = None,
) -> int:
    """Squash a run's checkpoints up to ``through_seq`` (default: all) into one snapshot.

    Returns how many checkpoints were removed. Replaying from a seq before
    ``through_seq`` is no longer possible afterwards.
    """
    if checkpoints is None:
        checkpoints = await load_checkpoints(store, run_id)
    if through_seq is None:
        through_seq = checkpoints[-1].seq
    upto = [c for c in checkpoints if c.seq <= through_seq]
    if len(upto) <= 1:
        return 0
    record = await anyio.to_thread.run_sync(fold, run_id, upto)
    data = {"format": FORMAT, "entries": [record.snapshot_entry()]}
    return await store.compact_checkpoints(run_id, upto[-1].seq, data)
