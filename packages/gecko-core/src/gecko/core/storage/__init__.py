"""What a store author needs, from one module.

- ``BaseStore``: ``async with`` support, an idempotent ``close()`` (override ``_close``)
  and ``_ensure_open()`` for a clear error after close.
- ``check_key`` / ``check_ttl``: the argument checks every store applies (non-empty
  string keys; a TTL is ``None`` or a positive, finite number of seconds), raising
  ``ConfigurationError`` with the fix.
- ``dumps`` / ``loads``: strict JSON. ``dumps`` rejects what would not come back
  unchanged (sets, objects, NaN, non-string keys) with a ``SerializationError``
  naming the key and the path inside the value; ``loads`` raises ``CorruptDataError``
  naming the key.
- ``parse_storage_url`` (-> ``StorageURL``), ``url_scheme`` and ``redact_url`` (for
  messages and logs: passwords never appear).
- ``RunEventLog`` / ``RunEvent`` and the checks every event log applies
  (``encode_events``, ``check_keep``, ``check_after``, ``check_limit``,
  ``check_run_id``, ``decode_event``, ``read_window``; see ``gecko.core.storage.events``).

The URL rule: what stands between ``//`` and the next ``/`` is the *host*
(lower-cased, without user, password and port) and the rest is the *path*
(percent-decoded, case kept). A store addressing a location joins the two,
``(url.host or "") + url.path``: ``mystore:///abs/dir`` is ``/abs/dir`` and
``mystore://./rel/dir`` is ``./rel/dir``. Write a relative path with a leading
``./``, since a first segment read as a host is lower-cased.
"""

from __future__ import annotations

from gecko.core.protocols import RunEvent, RunEventLog
from gecko.core.serialization import dumps, loads
from gecko.core.storage.base import BaseStore, check_key, check_ttl
from gecko.core.storage.events import (
    check_after,
    check_keep,
    check_limit,
    check_run_id,
    decode_event,
    encode_events,
    read_window,
)
from gecko.core.storage.url import StorageURL, parse_storage_url, redact_url, url_scheme

__all__ = [
    "BaseStore",
    "RunEvent",
    "RunEventLog",
    "StorageURL",
    "check_after",
    "check_keep",
    "check_key",
    "check_limit",
    "check_run_id",
    "check_ttl",
    "decode_event",
    "dumps",
    "encode_events",
    "loads",
    "parse_storage_url",
    "read_window",
    "redact_url",
    "url_scheme",
]
