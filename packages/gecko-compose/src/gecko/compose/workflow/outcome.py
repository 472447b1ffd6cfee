"""``NodeOutcome``: what one node execution produced, and how its return value is read.

A node's return value becomes what its successors receive (``passed``), unless it
is a ``Next`` (a jump: ``passed`` is the ``Next``'s input, or the node's own input
when that is None) or a team's member results holding a ``Next`` (the lowest
member index steers). The node's state changes (its view's diff, plus a ``Next``'s
``update_state``) travel with the outcome until the step merges.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gecko.compose.errors import ComposeError, UnknownNodeError
from gecko.compose.interrupts import Interrupt
from gecko.compose.nodes import END, Next
from gecko.compose.targets import TargetKind
from gecko.compose.team import MemberResult
from gecko.compose.workflow.calls import NodeSpec
from gecko.compose.workflow.state import NodeDiff, Reducer, StateView

logger = logging.getLogger(__name__)


class NodeOutcome:
    """What one node execution produced (or how it failed)."""

    __slots__ = (
        "attempts",
        "caught",
        "diff",
        "duration",
        "error",
        "input",
        "internal",
        "interrupts",
        "jump",
        "node",
        "output",
        "passed",
        "recorded",
        "resumed",
    )

    def __init__(self, node: str, input: Any) -> None:
        self.node = node
        self.input = input
        self.output: Any = None
        self.passed: Any = None  # what successors receive
        self.jump: Next | None = None
        self.diff: NodeDiff | None = None
        self.error: BaseException | None = None
        self.internal = False  # the error is the engine's own (raised as is, not wrapped)
        self.interrupts: list[Interrupt] | None = None  # the node stopped to ask (ctx.interrupt)
        self.caught: BaseException | None = None  # a failure ``catch`` sent to a fallback
        self.attempts = 1
        self.duration = 0.0
        self.resumed = False  # restored from a checkpoint instead of run
        self.recorded = False  # its checkpoint entry was already written

    def entry(self, step: int) -> dict[str, Any]:
        """The raw checkpoint entry recording this outcome (see ``record``)."""
        diff = self.diff
        return {
            "kind": "node",
            "step": step,
            "node": self.node,
            "output": self.passed,
            "writes": diff.writes if diff is not None else None,
            "deleted": sorted(diff.deleted) if diff is not None else None,
            "updates": diff.updates if diff is not None else None,
            "attempts": self.attempts,
            "duration": self.duration,
            "next": self.jump.node if self.jump is not None else None,
            **({"caught": describe_error(self.caught)} if self.caught is not None else {}),
        }


def describe_error(error: BaseException) -> dict[str, str]:
    """A failure as stored: its type's name and its message."""
    return {"type": type(error).__name__, "message": str(error)}


def interpret(
    outcome: NodeOutcome,
    spec: NodeSpec,
    output: Any,
    view: StateView | None,
    nodes: Mapping[str, Any],
    reducers: Mapping[str, Reducer],
) -> None:
    """Fill ``outcome`` from a node's return value: jump, passed value, state diff.

    A problem found here (a jump to an unknown node, a reducer key changed in
    place) becomes the outcome's error, marked ``internal``.
    """
    outcome.output = output
    jump: Next | None = None
    if type(output) is Next:
        jump = output
    elif spec.kind is TargetKind.TEAM:
        jump = team_jump(outcome.node, output)
    try:
        diff = view.diff(outcome.node) if view is not None else None
        if jump is None:
            outcome.passed = output
        else:
            target = jump.node
            if target != END and target not in nodes:
                known = ", ".join(repr(n) for n in nodes)
                raise UnknownNodeError(
                    f"node {outcome.node!r} returned Next({target!r}), but the workflow has no "
                    f"node {target!r}",
                    hint=f"known nodes: {known} (or END to finish the run)",
                    node=outcome.node,
                    target=target,
                )
            outcome.passed = outcome.input if jump.input is None else jump.input
            if jump.update_state:
                diff = diff if diff is not None else NodeDiff()
                for key, value in jump.update_state.items():
                    diff.assign(key, value, reducers)
        outcome.jump = jump
        outcome.diff = diff
    except ComposeError as exc:
        outcome.error = exc
        outcome.internal = True


def team_jump(node: str, results: Any) -> Next | None:
    """A team steers the workflow when a member returns Next: the lowest member index wins."""
    if type(results) is not list:
        return None
    jumps = [
        r
        for r in results
        if isinstance(r, MemberResult) and r.is_success and type(r.result) is Next
    ]
    if not jumps:
        return None
    if len(jumps) > 1:
        logger.warning(
            "%d members of team node %r returned Next; member %d wins (%r), the others are ignored",
            len(jumps),
            node,
            jumps[0].member_index,
            jumps[0].result.node,
        )
    chosen: Next = jumps[0].result
    return chosen
