"""``WorkflowContext``: what a node (or an edge condition) sees of the run it belongs to."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gecko.compose.interrupts import Answers
    from gecko.core.events import EventBus


class WorkflowContext:
    """Per-node view of a workflow run.

    - ``input``: what this node receives (the previous node's output, or the
      workflow input for the entry node); ``last_output`` / ``get_last_output()``
      are the same value under the names Gecko 0.4 used.
    - ``state``: this node's copy-on-write view of the shared state (a mutable
      mapping); changes merge after the step.
    - ``history``: node name -> latest output of every node that ran so far; a
      read-only mapping shared by all nodes of the run.
    - ``idempotency_key``: stable for this node execution across retries and
      resumes (``run_id:node:step``), so side effects can be made exactly-once.
    - ``await interrupt(payload, key=...)``: ask a person (see ``gecko.compose.interrupts``).
    - ``error``: in a fallback node reached through ``catch``, the failure it handles (the
      exception itself; after a resume, a ``CaughtError`` with its type and message).
    """

    __slots__ = (
        "_answers",
        "_checkpoint_requested",
        "attempt",
        "error",
        "event_bus",
        "history",
        "input",
        "node",
        "run_id",
        "state",
        "step",
        "workflow",
    )

    def __init__(
        self,
        *,
        run_id: str,
        workflow: str,
        node: str,
        step: int,
        input: Any,
        state: MutableMapping[str, Any],
        history: Mapping[str, Any],
        attempt: int = 1,
        event_bus: EventBus | None = None,
        answers: Answers | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.run_id = run_id
        self.error = error
        self.workflow = workflow
        self.node = node
        self.step = step
        self.input = input
        self.state = state
        self.history = history
        self.attempt = attempt
        self.event_bus = event_bus
        self._answers = answers
        self._checkpoint_requested = False

    def __repr__(self) -> str:
        return (
            f"WorkflowContext(workflow={self.workflow!r}, run_id={self.run_id!r}, "
            f"node={self.node!r}, step={self.step}, attempt={self.attempt})"
        )

    @property
    def session_id(self) -> str:
        """The run id (the ``session_id`` given to ``execute``)."""
        return self.run_id

    @property
    def idempotency_key(self) -> str:
        """``run_id:node:step``: the same on every retry and after a resume of this execution."""
        return f"{self.run_id}:{self.node}:{self.step}"

    @property
    def last_output(self) -> Any:
        """The value this node receives (alias of ``input``)."""
        return self.input

    def get_last_output(self) -> Any:
        """The value this node receives (alias of ``input``, kept from Gecko 0.4)."""
        return self.input

    async def interrupt(self, payload: Any = None, *, key: str) -> Any:
        """Pause the run until ``key`` is answered; return the answer.

        The first time, the node stops here and the run becomes ``interrupted`` with
        ``payload`` stored; ``resume(session_id, answers={key: ...})`` runs the node
        again from its start, and this call then returns the answer. Make what the
        node does before the call idempotent (``ctx.idempotency_key``), or put it in
        a node of its own.
        """
        from gecko.compose.interrupts import Answers

        if self._answers is None:
            self._answers = Answers()
        return self._answers.answer_for(key, self.node, payload)

    def request_checkpoint(self) -> None:
        """Ask for a checkpoint after this step (what ``CheckpointStrategy.MANUAL`` waits for)."""
        self._checkpoint_requested = True

    @property
    def checkpoint_requested(self) -> bool:
        return self._checkpoint_requested
