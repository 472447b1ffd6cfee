"""Errors raised by gecko.compose, rooted in gecko.core's hierarchy.

Every error says what went wrong and, where it helps, how to fix it (``hint``);
structured context (node, key, run id...) travels in ``error.context``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gecko.core.errors import (
    ConfigurationError,
    CorruptDataError,
    GeckoError,
    SchemaVersionError,
    SerializationError,
)


class ComposeError(GeckoError):
    """Base class of workflow and team errors."""


class WorkflowValidationError(ComposeError, ConfigurationError):
    """The workflow graph is invalid: missing entry point, unknown node, forbidden cycle..."""


class UnknownNodeError(WorkflowValidationError, LookupError):
    """A ``Next``, edge or ``start_node`` names a node the workflow does not have."""


class StateConflictError(ComposeError):
    """Two nodes of one parallel step wrote the same state key and no reducer resolves it."""

    def __init__(self, key: str, nodes: Sequence[str], *, step: int | None = None) -> None:
        names = " and ".join(repr(n) for n in nodes)
        super().__init__(
            f"state key {key!r} was written by nodes {names} in the same parallel step",
            hint=(
                f"declare a reducer for the key, e.g. Workflow(..., reducers={{{key!r}: operator.add}}), "
                "or let each node write its own key"
            ),
            key=key,
            nodes=list(nodes),
            step=step,
        )
        self.key = key
        self.nodes = list(nodes)


class NodeExecutionError(ComposeError):
    """A node failed (after its retries). The node's own exception is ``__cause__``."""

    def __init__(self, node: str, error: BaseException, *, attempts: int, step: int) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        detail = error.message if isinstance(error, GeckoError) else str(error)
        super().__init__(
            f"node {node!r} failed{tries}: {type(error).__name__}: {detail}",
            node=node,
            attempts=attempts,
            step=step,
            error_type=type(error).__name__,
        )
        self.node = node
        self.attempts = attempts
        self.step = step


class InterruptError(ComposeError):
    """An interrupt used or answered wrongly (a key two nodes share, a key that is not pending)."""


class RunInterrupted(ComposeError):
    """The run is waiting for answers to its pending interrupts (``resume(..., answers=...)``).

    ``interrupts`` lists them (``Interrupt``: key, node, payload); ``run`` is the WorkflowRun.
    """

    def __init__(self, run: Any) -> None:
        keys = ", ".join(repr(i.key) for i in run.interrupts)
        super().__init__(
            f"run {run.run_id!r} is interrupted, waiting for {keys}",
            hint=f"answer with resume({run.run_id!r}, answers={{key: value}})",
            run_id=run.run_id,
            keys=[i.key for i in run.interrupts],
        )
        self.run_id: str = run.run_id
        self.interrupts: list[Any] = list(run.interrupts)
        self.run = run


class RunSuspended(ComposeError):
    """The run was suspended (``wf.suspend``): its state is stored; ``resume`` continues it."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"run {run_id!r} is suspended",
            hint=f"continue it with resume({run_id!r})",
            run_id=run_id,
        )
        self.run_id = run_id


class RunCancelledError(ComposeError):
    """The run was cancelled (``wf.cancel``); a cancelled run is final and never resumes."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"run {run_id!r} was cancelled",
            hint="start a new run (execute with another session_id) to run the workflow again",
            run_id=run_id,
        )
        self.run_id = run_id


class CaughtError(ComposeError):
    """A failure a ``catch`` routed to a fallback node, as read back from the run's record."""

    def __init__(self, error_type: str, message: str, *, node: str) -> None:
        super().__init__(
            f"node {node!r} failed: {error_type}: {message}", node=node, error_type=error_type
        )
        self.error_type = error_type
        self.detail = message
        self.node = node


class CompensationError(ComposeError):
    """The run failed, and undoing what it had done failed too: both are here.

    ``error`` is the run's failure (also ``__cause__``); ``failures`` the compensations'
    errors, as ``(undo node, error)``. The run is ``failed``; nothing was dropped.
    """

    def __init__(
        self, run_id: str, error: BaseException, failures: list[tuple[str, BaseException]]
    ):
        listed = "; ".join(f"{node}: {type(e).__name__}: {e}" for node, e in failures)
        super().__init__(
            f"run {run_id!r} failed ({type(error).__name__}: {error}) and "
            f"{len(failures)} compensation(s) failed too: {listed}",
            hint="undo what those compensations could not by hand; the run stays failed",
            run_id=run_id,
            failed=[node for node, _ in failures],
        )
        self.error = error
        self.failures = failures


class RunFailedError(ComposeError):
    """A run that failed in another process, as its record tells (``handle.result()``)."""


class NodeTimeoutError(ComposeError, TimeoutError):
    """One attempt of a node did not finish within the node's timeout."""


class WorkflowTimeoutError(ComposeError, TimeoutError):
    """The whole workflow run did not finish within its timeout."""


class MaxStepsExceededError(ComposeError):
    """The run executed ``max_steps`` steps without finishing (a runaway loop?)."""


class RunNotFoundError(ComposeError, LookupError):
    """No checkpoint exists for the run id given to ``resume``/``replay``/``history``."""


class RunExistsError(ComposeError):
    """``execute`` was given a session id whose run already has checkpoints."""


class RunInProgressError(RunExistsError):
    """Another owner holds the run's lease: it is executing there right now.

    ``holder`` names the owner (``host:pid:token``) and ``expires_at`` (wall-clock
    seconds) when its lease runs out unless it is renewed; ``wait=True`` waits for it.
    """

    def __init__(self, message: str, *, holder: str, expires_at: float, **context: Any) -> None:
        super().__init__(message, holder=holder, expires_at=expires_at, **context)
        self.holder = holder
        self.expires_at = expires_at


class LeaseLostError(ComposeError):
    """The run's lease expired while it ran (renewals failed) and another owner may have it."""


class CheckpointCorruptError(ComposeError, CorruptDataError):
    """A run's stored history is damaged: a gap, a truncated record, another graph's record.

    Carries ``run_id``, ``seq`` (the checkpoint where it shows) and ``missing`` (what is
    gone) in ``context``; the hint names the ways out.
    """

    def __init__(self, run_id: str, seq: int | None, problem: str, *, missing: str) -> None:
        at = f" at checkpoint {seq}" if seq is not None else ""
        super().__init__(
            f"the stored history of run {run_id!r} is damaged{at}: {problem}",
            hint=(
                f"time-travel to the last good checkpoint (wf.history({run_id!r}) lists them, "
                f"wf.replay({run_id!r}, seq) runs on from one as a new run), or start over with "
                "a new session_id"
            ),
            run_id=run_id,
            seq=seq,
            missing=missing,
        )
        self.run_id = run_id
        self.seq = seq
        self.missing = missing


class CheckpointVersionError(CheckpointCorruptError, SchemaVersionError):
    """A checkpoint was written in a format (schema version) this gecko-compose cannot read."""


class UnregisteredTypeError(SerializationError):
    """A checkpointed value is a class that was not registered as safe to restore."""


class TeamTimeoutError(ComposeError, TimeoutError):
    """A team member had not finished when the team's timeout expired."""


class MemberError(ComposeError):
    """A team member's failure restored from a checkpoint (its original class is not re-created)."""

    def __init__(self, message: str, *, error_type: str, **context: Any) -> None:
        super().__init__(message, error_type=error_type, **context)
        self.error_type = error_type

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}"
