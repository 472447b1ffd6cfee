"""How Gecko lays out its data in Redis, under the application's prefix.

    {prefix}kv:{key}                   a session document (JSON string, optional PX expiry)
    {prefix}cp:{{run}}:log             a run's checkpoints (sorted set scored by seq)
    {prefix}cp:{{run}}:seq             a run's last assigned seq (never reused)
    {prefix}cp:{{run}}:tok:{token}     a recent append's seq, so a retried append is not doubled
    {prefix}cp:{{run}}:lease           who owns the run (holder id, PX expiry; see ``leases``)
    {prefix}cp:{{run}}:events          a run's event log (stream, entry ids ``{seq}-0``; see ``events``)
    {prefix}lock:{name}                a distributed lock (holder's random token, PX expiry)

The ``{run}`` braces are a Redis Cluster hash tag: every key of one run lives in
one slot, so the Lua scripts that touch several of them stay valid on a cluster.
"""

from __future__ import annotations

import re

_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis MATCH pattern (``* ? [ ] \\`` escaped)."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class KeySpace:
    """Builds and parses the keys of one application prefix."""

    __slots__ = ("_cp", "_kv", "_lock", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._kv = prefix + "kv:"
        self._cp = prefix + "cp:{"
        self._lock = prefix + "lock:"

    def kv(self, key: str) -> str:
        return self._kv + key

    def kv_pattern(self, key_prefix: str) -> str:
        return glob_escape(self._kv + key_prefix) + "*"

    def kv_key(self, redis_key: bytes) -> str:
        return redis_key.decode()[len(self._kv) :]

    def log(self, run_id: str) -> str:
        return f"{self._cp}{run_id}}}:log"

    def seq(self, run_id: str) -> str:
        return f"{self._cp}{run_id}}}:seq"

    def token(self, run_id: str, token: str) -> str:
        return f"{self._cp}{run_id}}}:tok:{token}"

    def lease(self, run_id: str) -> str:
        return f"{self._cp}{run_id}}}:lease"

    def events(self, run_id: str) -> str:
        return f"{self._cp}{run_id}}}:events"

    def log_pattern(self, run_prefix: str) -> str:
        return glob_escape(self._cp + run_prefix) + "*}:log"

    def run_id(self, log_key: bytes) -> str:
        return log_key.decode()[len(self._cp) : -len("}:log")]

    def lock(self, name: str) -> str:
        return self._lock + name
