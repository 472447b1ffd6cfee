"""``Team``: run several agents or callables on one input, all of them (ALL) or the fastest (RACE).

- ALL: every member runs (at most ``max_concurrent`` at a time); a member failing
  never cancels another; results come back in member order.
- RACE: the first member to *succeed* wins, exactly once, and the others are
  cancelled; if every member fails, every failure is returned.
- ``timeout`` covers the whole run: finished results are kept, members still
  running are cancelled and reported as failed with a ``TeamTimeoutError``.
- ``input_mapper(input, index)`` gives each member its own input (sharding); a
  mapper failing for one member fails only that member (bulkheading).

Sync members run in worker threads; a cancelled thread cannot be stopped, so it
finishes in the background and its result is discarded.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import anyio

from gecko.compose.errors import TeamTimeoutError
from gecko.compose.targets import TargetKind, call_with_input, classify
from gecko.core.errors import ConfigurationError
from gecko.core.validation import check_int, check_number


class ExecutionStrategy(str, enum.Enum):
    ALL = "all"
    RACE = "race"


@dataclass(frozen=True, slots=True)
class MemberResult:
    """One member's outcome: ``result`` on success, ``error`` on failure."""

    result: Any = None
    error: BaseException | None = None
    member_index: int = 0
    is_success: bool = True

    @property
    def value(self) -> Any:
        """The result of a successful member; raises the member's error otherwise."""
        if not self.is_success:
            raise self.error if self.error is not None else RuntimeError("team member failed")
        return self.result


class Team:
    """Run ``members`` (Agents, Teams, Workflows, sync or async callables) on one input."""

    _gecko_target_kind = TargetKind.TEAM

    def __init__(
        self,
        members: Sequence[Any],
        name: str | None = None,
        strategy: ExecutionStrategy | str = ExecutionStrategy.ALL,
        max_concurrent: int | None = None,
        timeout: float | None = None,
        input_mapper: Callable[[Any, int], Any] | None = None,
    ) -> None:
        if not members:
            raise ConfigurationError("a Team needs at least one member")
        try:
            self.strategy = ExecutionStrategy(strategy)
        except ValueError:
            raise ConfigurationError(
                f"unknown team strategy {strategy!r}", hint="use ExecutionStrategy.ALL or .RACE"
            ) from None
        check_int("max_concurrent", max_concurrent, minimum=1, allow_none=True)
        check_number(
            "team timeout", timeout, above=0, finite=False, unit="seconds", allow_none=True
        )
        if input_mapper is not None and not callable(input_mapper):
            raise ConfigurationError(f"input_mapper must be callable, got {input_mapper!r}")
        self.members = list(members)
        self.name = name or "team"
        self.max_concurrent = max_concurrent
        self.timeout = timeout
        self.input_mapper = input_mapper
        self._kinds = [
            classify(member, what=f"member {i} of team {self.name!r}")
            for i, member in enumerate(self.members)
        ]

    def __repr__(self) -> str:
        return (
            f"Team(name={self.name!r}, members={len(self.members)}, strategy={self.strategy.value})"
        )

    async def run(self, input: Any) -> list[MemberResult]:
        """Run the members; see the module docstring for what each strategy returns."""
        count = len(self.members)
        results: list[MemberResult | None] = [None] * count
        winner: list[MemberResult] = []
        race = self.strategy is ExecutionStrategy.RACE
        limiter = anyio.CapacityLimiter(self.max_concurrent) if self.max_concurrent else None

        async def member(index: int, group: anyio.abc.TaskGroup) -> None:
            try:
                if limiter is None:
                    value = await self._call(index, input)
                else:
                    async with limiter:
                        value = await self._call(index, input)
            except Exception as exc:
                results[index] = MemberResult(error=exc, member_index=index, is_success=False)
                return
            outcome = results[index] = MemberResult(result=value, member_index=index)
            if race and not winner:  # no await between check and set: one winner, always
                winner.append(outcome)
                group.cancel_scope.cancel()

        scope: AbstractContextManager[Any] = (
            anyio.move_on_after(self.timeout) if self.timeout is not None else nullcontext()
        )
        with scope:
            async with anyio.create_task_group() as group:
                for index in range(count):
                    group.start_soon(member, index, group)
        if winner:
            return [winner[0]]
        return [
            result
            if result is not None
            else MemberResult(
                error=TeamTimeoutError(
                    f"member {index} of team {self.name!r} did not finish within {self.timeout} s",
                    team=self.name,
                    member_index=index,
                ),
                member_index=index,
                is_success=False,
            )
            for index, result in enumerate(results)
        ]

    async def _call(self, index: int, input: Any) -> Any:
        value = input
        if self.input_mapper is not None:
            value = self.input_mapper(input, index)
            if inspect.isawaitable(value):
                value = await value
        kind = self._kinds[index]
        return await call_with_input(kind, self.members[index], value)


__all__ = ["ExecutionStrategy", "MemberResult", "Team", "TargetKind"]
