"""Human-in-the-loop: ``await ctx.interrupt(payload, key=...)`` pauses a run until it is answered.

A node that interrupts stops where it is; the run becomes ``interrupted`` once the
step's other nodes are done, with every pending interrupt stored (key, node,
payload). ``resume(session_id, answers={key: value})`` stores the answers, then runs
the answered nodes again from their start — the same ``ctx.interrupt`` call now
returns the answer, with the same ``ctx.idempotency_key`` — while unanswered ones
stay pending. An answered key never fires again, and a key belongs to one node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gecko.compose.errors import InterruptError


@dataclass(frozen=True, slots=True)
class Interrupt:
    """A pending question: ``key`` (what answers it), the ``node`` that asked, its ``payload``."""

    key: str
    node: str
    payload: Any = None


class NodeInterrupt(BaseException):
    """Raised by ``ctx.interrupt`` to stop a node; never retried, never a node failure.

    A BaseException so that a node's ``except Exception`` cannot swallow it.
    """

    def __init__(self, interrupts: list[Interrupt]) -> None:
        super().__init__(", ".join(i.key for i in interrupts))
        self.interrupts = interrupts


@dataclass(slots=True)
class Answers:
    """The answers a run received and which node owns each interrupt key."""

    values: dict[str, Any] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)

    def answer_for(self, key: str, node: str, payload: Any) -> Any:
        """The answer to ``key`` asked by ``node``, or raise NodeInterrupt to ask for it."""
        if not isinstance(key, str) or not key:
            raise InterruptError(
                f"node {node!r}: an interrupt key must be a non-empty string, got {key!r}",
                hint='name what the answer is for: await ctx.interrupt(payload, key="approve")',
                node=node,
            )
        owner = self.owners.get(key)
        if owner is not None and owner != node:
            raise InterruptError(
                f"nodes {owner!r} and {node!r} both use the interrupt key {key!r}",
                hint="give each node's interrupt its own key (the answer goes to one node)",
                key=key,
                nodes=[owner, node],
            )
        if key in self.values:
            return self.values[key]
        raise NodeInterrupt([Interrupt(key, node, payload)])


def check_answers(
    run_id: str, status: str, pending: Mapping[str, Interrupt], answers: Mapping[str, Any]
) -> None:
    """Refuse answers to a run that is not interrupted, or for keys that are not pending."""
    if not answers:
        return
    if status != "interrupted":
        raise InterruptError(
            f"run {run_id!r} is {status}, not interrupted: there is nothing to answer",
            hint="resume it without answers",
            run_id=run_id,
            status=status,
        )
    unknown = sorted(set(answers) - set(pending))
    if unknown:
        waiting = "; ".join(
            f"{key!r} (node {i.node!r}, payload {i.payload!r})" for key, i in pending.items()
        )
        raise InterruptError(
            f"run {run_id!r} has no pending interrupt {', '.join(map(repr, unknown))}",
            hint=f"pending: {waiting}",
            run_id=run_id,
            pending=sorted(pending),
        )
