"""Quotas on the scheduler: how many nodes of a kind, a tag or a model run at once.

``Workflow(limits={"agent": 5, "function": 20, "tag:gpu": 1, "model:openai/gpt-4o": 2})``
bounds the nodes running at the same time per key, across the whole run — or
across every workflow sharing one ``Limits`` object in the process. Keys:

- a node kind: ``function``, ``agent``, ``team``, ``workflow`` (a sub-workflow), ``human``;
- ``tag:<name>`` for nodes added with ``tags=[...]``;
- ``model:<model id>`` for agent nodes whose model has that id.

A node takes a slot of every key that applies to it, in a fixed (sorted) order so
two nodes never hold one slot each and wait for the other's. Time spent waiting
is reported as the ``gecko.workflow.limit.wait`` metric.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError

KINDS = frozenset({"function", "agent", "team", "workflow", "human"})


class Limits:
    """Slots per key, shared by every run (and workflow) that uses this object."""

    __slots__ = ("_semaphores", "values")

    def __init__(self, values: Mapping[str, int]) -> None:
        if not isinstance(values, Mapping):
            raise ConfigurationError(
                f"limits must be a mapping of key to a number of slots, got {values!r}",
                hint='e.g. limits={"agent": 5, "tag:gpu": 1, "model:openai/gpt-4o": 2}',
            )
        checked: dict[str, int] = {}
        for key, value in values.items():
            checked[_check_key(key)] = _check_value(key, value)
        self.values = checked
        self._semaphores: dict[str, anyio.Semaphore] = {}

    def __repr__(self) -> str:
        return f"Limits({self.values!r})"

    def __bool__(self) -> bool:
        return bool(self.values)

    def keys_for(self, kind: str, tags: Sequence[str], model: str | None) -> tuple[str, ...]:
        """The keys bounding a node of ``kind`` with ``tags`` (and, for agents, ``model``)."""
        wanted = [kind, *(f"tag:{tag}" for tag in tags)]
        if model is not None:
            wanted.append(f"model:{model}")
        return tuple(sorted(key for key in set(wanted) if key in self.values))

    @asynccontextmanager
    async def hold(self, keys: Sequence[str]) -> AsyncIterator[dict[str, float]]:
        """Take a slot of each key (in order); yields the seconds waited per key."""
        waited: dict[str, float] = {}
        async with _Held() as held:
            for key in keys:
                semaphore = self._semaphores.get(key)
                if semaphore is None:
                    semaphore = self._semaphores[key] = anyio.Semaphore(self.values[key])
                started = time.perf_counter()
                await semaphore.acquire()
                held.taken.append(semaphore)
                waited[key] = time.perf_counter() - started
            yield waited


class _Held:
    """Releases the slots taken so far, also when taking the next one was cancelled."""

    def __init__(self) -> None:
        self.taken: list[anyio.Semaphore] = []

    async def __aenter__(self) -> _Held:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for semaphore in reversed(self.taken):
            semaphore.release()


def as_limits(limits: Limits | Mapping[str, int] | None) -> Limits | None:
    if limits is None or isinstance(limits, Limits):
        return limits or None
    return Limits(limits)


def _check_key(key: Any) -> str:
    if isinstance(key, str):
        if key in KINDS:
            return key
        prefix, _, rest = key.partition(":")
        if prefix in ("tag", "model") and rest:
            return key
    raise ConfigurationError(
        f"unknown limit key {key!r}",
        hint=f"use a node kind ({', '.join(sorted(KINDS))}), 'tag:<name>' or 'model:<model id>'",
    )


def _check_value(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            f"limit {key!r} must be a whole number of slots >= 1, got {value!r}",
            hint="a rate per period for a provider is set on the model plugin's rate limiter",
        )
    return value
