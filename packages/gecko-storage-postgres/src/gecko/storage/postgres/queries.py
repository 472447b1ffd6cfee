"""Every SQL statement of the store, parameterised, for one schema.

Statements are written with ``{s}`` for the schema and composed once per store with
``psycopg.sql.Identifier`` (the schema name is never pasted raw); every value is a
``%s`` parameter. Time is the server's clock (``_NOW``), so every client of one
database agrees on expiry.
"""

# ruff: noqa: S608 - the f-strings join constant SQL fragments; every value is a %s parameter

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from psycopg import sql

_NOW = "extract(epoch FROM clock_timestamp())"
_LIVE = f"(expires_at IS NULL OR expires_at > {_NOW})"

_TEMPLATES = {
    "get": f"SELECT value, raw FROM {{s}}.gecko_kv WHERE key = %s AND {_LIVE}",
    "get_many": f"SELECT key, value, raw FROM {{s}}.gecko_kv WHERE key = ANY(%s) AND {_LIVE}",
    "set": "INSERT INTO {s}.gecko_kv (key, value, raw, expires_at) "
    f"VALUES (%s, %s::jsonb, %s, {_NOW} + %s::float8) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, raw = excluded.raw, "
    "expires_at = excluded.expires_at",
    "set_many": "INSERT INTO {s}.gecko_kv (key, value, raw, expires_at) "
    f"SELECT k, v::jsonb, r, {_NOW} + %s::float8 "
    "FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(k, v, r) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, raw = excluded.raw, "
    "expires_at = excluded.expires_at",
    "delete": "WITH d AS (DELETE FROM {s}.gecko_kv WHERE key = ANY(%s) "
    f"RETURNING {_LIVE} AS live) SELECT count(*) FILTER (WHERE live) FROM d",
    "keys": "SELECT key FROM {s}.gecko_kv WHERE key LIKE %s ESCAPE '\\' "
    f"AND {_LIVE} ORDER BY key",
    "sweep": f"DELETE FROM {{s}}.gecko_kv WHERE expires_at <= {_NOW}",
    "append": "WITH r AS (INSERT INTO {s}.gecko_runs (run_id, last_seq) VALUES (%s, 1) "
    "ON CONFLICT (run_id) DO UPDATE SET last_seq = gecko_runs.last_seq + 1 RETURNING last_seq) "
    "INSERT INTO {s}.gecko_checkpoints (run_id, seq, data, raw, created_at) "
    f"SELECT %s, last_seq, %s::jsonb, %s, {_NOW} FROM r RETURNING seq",
    "latest": "SELECT seq, data, raw, created_at FROM {s}.gecko_checkpoints "
    "WHERE run_id = %s ORDER BY seq DESC LIMIT 1",
    "by_seq": "SELECT seq, data, raw, created_at FROM {s}.gecko_checkpoints "
    "WHERE run_id = %s AND seq = %s",
    "history": "SELECT seq, data, raw, created_at FROM {s}.gecko_checkpoints "
    "WHERE run_id = %s AND seq > %s ORDER BY seq LIMIT %s",
    "drop_through": "DELETE FROM {s}.gecko_checkpoints WHERE run_id = %s AND seq <= %s",
    "put_at": "INSERT INTO {s}.gecko_checkpoints (run_id, seq, data, raw, created_at) "
    f"VALUES (%s, %s, %s::jsonb, %s, {_NOW})",
    "raise_seq": "INSERT INTO {s}.gecko_runs (run_id, last_seq) VALUES (%s, %s) "
    "ON CONFLICT (run_id) DO UPDATE SET last_seq = greatest(gecko_runs.last_seq, excluded.last_seq)",
    "drop_run": "DELETE FROM {s}.gecko_checkpoints WHERE run_id = %s",
    "drop_counter": "DELETE FROM {s}.gecko_runs WHERE run_id = %s",
    "runs": "SELECT r.run_id FROM {s}.gecko_runs AS r WHERE r.run_id LIKE %s ESCAPE '\\' "
    "AND EXISTS (SELECT 1 FROM {s}.gecko_checkpoints AS c WHERE c.run_id = r.run_id) "
    "ORDER BY r.run_id",
    "lease_take": "INSERT INTO {s}.gecko_leases (run_id, holder, expires_at) "
    f"VALUES (%s, %s, {_NOW} + %s::float8) "
    "ON CONFLICT (run_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    f"WHERE gecko_leases.holder = excluded.holder OR gecko_leases.expires_at <= {_NOW} "
    "RETURNING holder, expires_at",
    "lease_held": "SELECT holder, expires_at FROM {s}.gecko_leases WHERE run_id = %s",
    "lease_renew": f"UPDATE {{s}}.gecko_leases SET expires_at = {_NOW} + %s::float8 "
    f"WHERE run_id = %s AND holder = %s AND expires_at > {_NOW}",
    "lease_release": "WITH d AS (DELETE FROM {s}.gecko_leases WHERE run_id = %s AND holder = %s "
    f"RETURNING expires_at > {_NOW} AS live) SELECT coalesce(bool_or(live), false) FROM d",
    "lease_get": "SELECT holder, expires_at FROM {s}.gecko_leases "
    f"WHERE run_id = %s AND expires_at > {_NOW}",
    "events_bump": "INSERT INTO {s}.gecko_event_runs (run_id, last_seq) VALUES (%s, %s) "
    "ON CONFLICT (run_id) DO UPDATE SET last_seq = gecko_event_runs.last_seq + excluded.last_seq "
    "RETURNING last_seq",
    "events_append": "WITH ins AS (INSERT INTO {s}.gecko_events (run_id, seq, data, created_at) "
    f"SELECT %(run)s, %(last)s - %(n)s + t.ord, t.data, {_NOW} "
    "FROM unnest(%(texts)s::text[]) WITH ORDINALITY AS t(data, ord) WHERE t.ord > %(skip)s), "
    "del AS (DELETE FROM {s}.gecko_events WHERE %(keep)s::bigint IS NOT NULL "
    "AND run_id = %(run)s AND seq <= %(last)s - %(keep)s::bigint) "
    "SELECT pg_notify('gecko_events', "
    "json_build_array(%(schema)s::text, %(run)s::text, %(last)s::bigint)::text)",
    "events_read": "SELECT seq, data, created_at FROM {s}.gecko_events "
    "WHERE run_id = %s AND seq > %s ORDER BY seq LIMIT %s",
    "events_last": "SELECT last_seq FROM {s}.gecko_event_runs WHERE run_id = %s",
    "events_delete": "WITH d AS (DELETE FROM {s}.gecko_events WHERE run_id = %s RETURNING 1), "
    "c AS (DELETE FROM {s}.gecko_event_runs WHERE run_id = %s) SELECT count(*) FROM d",
}


@dataclass(frozen=True)
class Queries:
    """The statements for one schema, as ready-to-run strings."""

    get: str
    get_many: str
    set: str
    set_many: str
    delete: str
    keys: str
    sweep: str
    append: str
    latest: str
    by_seq: str
    history: str
    drop_through: str
    put_at: str
    raise_seq: str
    drop_run: str
    drop_counter: str
    runs: str
    lease_take: str
    lease_held: str
    lease_renew: str
    lease_release: str
    lease_get: str
    events_bump: str
    events_append: str
    events_read: str
    events_last: str
    events_delete: str

    @classmethod
    def for_schema(cls, schema: str, context: Any) -> Queries:
        ident = sql.Identifier(schema)
        composed = {
            f.name: sql.SQL(_TEMPLATES[f.name]).format(s=ident).as_string(context)  # type: ignore[arg-type]
            for f in fields(cls)
        }
        return cls(**composed)


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with ``prefix`` (wildcards escaped)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
