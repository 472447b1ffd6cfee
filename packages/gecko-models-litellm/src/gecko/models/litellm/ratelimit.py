"""A process-wide rate limiter for model calls: requests and tokens per period, fair, async.

``RateLimiter(requests=..., tokens=..., period=60)`` guarantees that the provider
sees at most ``requests`` calls and ``tokens`` tokens in any ``period`` seconds:

- A sliding window, so a burst at the end of one minute never doubles with the
  start of the next.
- A call counts from its admission until it finishes, and then for ``period``
  seconds after it finished. Its arrival at the provider lies somewhere in
  between, so however long the request takes to leave a busy client, the
  provider's own window never sees more than the limit.
- A call reserves its estimated tokens and settles the reservation with the
  usage the provider reported (``Reservation.settle``, always called, also on
  failure or cancellation).
- Waiters are admitted strictly in arrival order: a large request is not starved
  by small ones, and a Team of 20 agents queues instead of stampeding.

Limiters are shared: every model of a process with the same provider and model
uses the same limiter. Configure them globally with :func:`set_rate_limit`
(``"openai"`` applies to each OpenAI model, ``"openai/gpt-4o"`` to one) or per
instance (``requests_per_minute=``/``tokens_per_minute=``, which configure the
shared limiter of that provider and model, or ``rate_limiter=`` for an explicit one).

The limiter is built for one event loop at a time (a waiter's wake-up event
belongs to the loop it waits in), which is how async applications and tests run.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass

import anyio

from gecko.core.errors import ConfigurationError
from gecko.core.validation import check_int, check_number

logger = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class _Entry:
    at: float
    tokens: int
    open: bool = True


class _Waiter:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = anyio.Event()


class Reservation:
    """One admitted call's place in the window; ``settle`` when the call is over."""

    __slots__ = ("_entry", "_limiter")

    def __init__(self, limiter: RateLimiter, entry: _Entry) -> None:
        self._limiter = limiter
        self._entry = entry

    @property
    def tokens(self) -> int:
        return self._entry.tokens

    @property
    def settled(self) -> bool:
        return not self._entry.open

    def settle(self, tokens: int) -> None:
        """The call is over and used ``tokens``: it stays in the window ``period`` more seconds.

        Settling again only corrects the token count.
        """
        self._limiter._settle(self._entry, max(0, int(tokens)))


class RateLimiter:
    """At most ``requests`` calls and ``tokens`` tokens in any ``period`` seconds, FIFO-fair."""

    def __init__(
        self,
        *,
        requests: int | None = None,
        tokens: int | None = None,
        period: float = 60.0,
        name: str | None = None,
    ) -> None:
        self.name = name
        self._registry_owned = False
        self._open: set[_Entry] = set()  # calls still running
        self._open_tokens = 0
        self._log: deque[_Entry] = deque()  # finished calls, by finishing time
        self._log_tokens = 0
        self._waiters: deque[_Waiter] = deque()
        self.admitted = 0
        """Calls admitted so far."""
        self.delayed = 0
        """Calls that had to wait."""
        self.configure(requests=requests, tokens=tokens, period=period)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(name={self.name!r}, requests={self.requests}, tokens={self.tokens}, "
            f"period={self.period:g})"
        )

    @classmethod
    def per_minute(
        cls, *, requests: int | None = None, tokens: int | None = None, name: str | None = None
    ) -> RateLimiter:
        return cls(requests=requests, tokens=tokens, period=60.0, name=name)

    def configure(
        self, *, requests: int | None = None, tokens: int | None = None, period: float = 60.0
    ) -> None:
        """Change the limits; waiting callers are re-evaluated at once."""
        for label, value in (("requests", requests), ("tokens", tokens)):
            check_int(f"rate limit {label}", value, minimum=1, allow_none=True)
        seconds = check_number("rate limit period", period, above=0, finite=False, unit="seconds")
        self.requests = requests
        self.tokens = tokens
        self.period = seconds
        self._wake_head()

    @property
    def waiting(self) -> int:
        """Callers queued right now."""
        return len(self._waiters)

    @property
    def in_flight(self) -> int:
        """Admitted calls not settled yet."""
        return len(self._open)

    def in_window(self) -> tuple[int, int]:
        """(calls, tokens) counting against the limits right now."""
        self._prune(time.monotonic())
        return len(self._open) + len(self._log), self._open_tokens + self._log_tokens

    async def acquire(self, tokens: int = 0) -> Reservation:
        """Wait for room for one call of about ``tokens`` tokens, in arrival order.

        A call estimated above the token limit is admitted alone, once nothing
        else counts against the window.
        """
        tokens = max(0, int(tokens))
        if not self._waiters and self._delay(tokens) <= 0:
            return self._admit(tokens)
        waiter = _Waiter()
        self._waiters.append(waiter)
        self.delayed += 1
        try:
            while True:
                if self._waiters[0] is waiter:
                    delay = self._delay(tokens)
                    if delay <= 0:
                        break
                    with anyio.move_on_after(delay):  # inf: until a call settles
                        await waiter.event.wait()
                else:
                    await waiter.event.wait()
                waiter.event = anyio.Event()
        except BaseException:
            was_head = self._waiters[0] is waiter
            self._waiters.remove(waiter)
            if was_head:
                self._wake_head()
            raise
        self._waiters.popleft()
        reservation = self._admit(tokens)
        self._wake_head()
        return reservation

    # --- window bookkeeping -----------------------------------------------------------

    def _admit(self, tokens: int) -> Reservation:
        entry = _Entry(time.monotonic(), tokens)
        self._open.add(entry)
        self._open_tokens += tokens
        self.admitted += 1
        return Reservation(self, entry)

    def _settle(self, entry: _Entry, tokens: int) -> None:
        if entry.open:
            self._open.discard(entry)
            self._open_tokens -= entry.tokens
            entry.open = False
            entry.at = time.monotonic()
            entry.tokens = tokens
            self._log.append(entry)  # finishing now: the log stays ordered by time
            self._log_tokens += tokens
        else:
            if self._log and entry.at >= self._log[0].at:
                self._log_tokens += tokens - entry.tokens
            entry.tokens = tokens
        self._wake_head()

    def _prune(self, now: float) -> None:
        horizon = now - self.period
        while self._log and self._log[0].at <= horizon:
            self._log_tokens -= self._log.popleft().tokens

    def _delay(self, tokens: int) -> float:
        """Seconds until a call of ``tokens`` tokens fits (0: now; inf: when a call settles)."""
        now = time.monotonic()
        self._prune(now)
        delay = 0.0
        if self.requests is not None:
            excess = len(self._open) + len(self._log) + 1 - self.requests
            if excess > len(self._log):
                return math.inf
            if excess > 0:
                delay = self._log[excess - 1].at + self.period - now
        if self.tokens is not None:
            need = self._open_tokens + self._log_tokens + tokens - self.tokens
            if need > 0 and (self._open or self._log):
                leave_at = None
                for entry in self._log:
                    need -= entry.tokens
                    if need <= 0:
                        leave_at = entry.at
                        break
                if leave_at is None:  # even an empty log is not enough
                    if self._open:
                        return math.inf
                    leave_at = self._log[-1].at  # oversized: alone once the window is empty
                delay = max(delay, leave_at + self.period - now)
        return delay

    def _wake_head(self) -> None:
        if self._waiters:
            self._waiters[0].event.set()


# --- the process-wide registry -----------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    requests: int | None
    tokens: int | None
    limiter: RateLimiter | None = None


_lock = threading.Lock()
_configs: dict[str, _Config] = {}
_limiters: dict[str, RateLimiter] = {}


def set_rate_limit(
    key: str,
    *,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    limiter: RateLimiter | None = None,
) -> None:
    """Limit every model of ``key`` (``"openai"``) or one model (``"openai/gpt-4o"``), process-wide.

    A provider-level limit gives each of its models its own limiter; a model-level
    limit beats it. ``limiter`` shares one explicit limiter (any period) instead.
    Models created before the call follow the new limits from their next call on.
    """
    if limiter is None and requests_per_minute is None and tokens_per_minute is None:
        raise ConfigurationError(
            f"set_rate_limit({key!r}) needs requests_per_minute, tokens_per_minute or limiter",
            hint="use clear_rate_limits() to remove limits",
        )
    key = _normalise(key)
    if limiter is None:  # validate before storing anything
        RateLimiter(requests=requests_per_minute, tokens=tokens_per_minute)
    with _lock:
        _configs[key] = _Config(requests_per_minute, tokens_per_minute, limiter)
        for name, existing in list(_limiters.items()):
            if _config_key(name) != key:
                continue
            if limiter is None and existing._registry_owned:
                existing.configure(requests=requests_per_minute, tokens=tokens_per_minute)
            else:
                _limiters[name] = limiter or _new_limiter(name, _configs[key])


def clear_rate_limits() -> None:
    """Forget every configured limit and shared limiter (tests, reconfiguration)."""
    with _lock:
        _configs.clear()
        _limiters.clear()


def rate_limiter_for(provider: str, model: str) -> RateLimiter | None:
    """The shared limiter of ``provider/model``, or None when no limit applies to it."""
    key = _normalise(f"{provider}/{model}")
    limiter = _limiters.get(key)
    if limiter is not None:
        return limiter
    with _lock:
        limiter = _limiters.get(key)
        if limiter is not None:
            return limiter
        config_key = _config_key(key)
        if config_key is None:
            return None
        limiter = _configs[config_key].limiter or _new_limiter(key, _configs[config_key])
        _limiters[key] = limiter
        return limiter


def shared_rate_limiter(
    provider: str,
    model: str,
    *,
    requests_per_minute: int | None,
    tokens_per_minute: int | None,
) -> RateLimiter:
    """Configure and return the shared limiter of ``provider/model`` (per-instance options).

    Instances of the same model share it; when they disagree, the last one
    configured wins (logged), as for any process-wide setting.
    """
    key = _normalise(f"{provider}/{model}")
    with _lock:
        previous = _configs.get(key)
        if previous is not None and (previous.requests, previous.tokens) != (
            requests_per_minute,
            tokens_per_minute,
        ):
            logger.info(
                "rate limit of %s changed from %s/%s to %s/%s (requests/tokens per minute)",
                key,
                previous.requests,
                previous.tokens,
                requests_per_minute,
                tokens_per_minute,
            )
    set_rate_limit(
        key, requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute
    )
    limiter = rate_limiter_for(provider, model)
    assert limiter is not None
    return limiter


def _config_key(name: str) -> str | None:
    """The configured key that applies to ``provider/model``: its own, else its provider's."""
    if name in _configs:
        return name
    provider = name.partition("/")[0]
    return provider if provider in _configs else None


def _new_limiter(name: str, config: _Config) -> RateLimiter:
    limiter = RateLimiter(requests=config.requests, tokens=config.tokens, period=60.0, name=name)
    limiter._registry_owned = True  # created from numbers: reconfigured in place later
    return limiter


def _normalise(key: str) -> str:
    provider, sep, model = key.strip().partition("/")
    if not provider:
        raise ConfigurationError(
            f"rate limit key must be 'provider' or 'provider/model', got {key!r}"
        )
    return provider.lower() + sep + model
