"""Lua scripts: each runs atomically on the server (no other command interleaves).

A checkpoint is a sorted-set member ``"{seq}|{created_at}|{json}"`` scored by its
seq; the seq in the member keeps identical payloads distinct. A run's events are
a stream whose entry ids are ``{seq}-0``, with fields ``t`` (created_at) and ``d`` (json).
"""

from __future__ import annotations

APPEND = """
-- KEYS: seq counter, log, token   ARGV: created_at|json, token ttl (ms)
local done = redis.call('GET', KEYS[3])
if done then
  return tonumber(done)
end
local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, seq .. '|' .. ARGV[1])
redis.call('SET', KEYS[3], seq, 'PX', ARGV[2])
return seq
"""
"""Assign the run's next seq and store the checkpoint in one step.

The caller's random token makes a retried append (the connection dropped after
the server ran it) return the first seq instead of appending twice.
"""

SET_MANY_TTL = """
-- KEYS: documents   ARGV: values..., ttl (ms)
local ttl = ARGV[#ARGV]
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i], 'PX', ttl)
end
return #KEYS
"""
"""Store several documents with one expiry, atomically, in one command (MSET has no TTL)."""

COMPACT = """
-- KEYS: seq counter, log   ARGV: through_seq, has_snapshot ('1'/'0'), created_at|json
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1] .. '|' .. ARGV[3])
  local last = tonumber(redis.call('GET', KEYS[1]) or '0')
  if last < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[1], ARGV[1])
  end
end
return removed
"""
"""Drop checkpoints with seq <= through_seq, optionally leaving a snapshot at through_seq."""

DELETE_RUN = """
-- KEYS: seq counter, log
local count = redis.call('ZCARD', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
return count
"""

APPEND_EVENTS = """
-- KEYS: events stream, token   ARGV: token ttl (ms), keep (0: all), created_at, json...
local done = redis.call('GET', KEYS[2])
if done then
  return tonumber(done)
end
local last = 0
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #top > 0 then
  last = tonumber(string.match(top[1][1], '^(%d+)-'))
end
for i = 4, #ARGV do
  last = last + 1
  redis.call('XADD', KEYS[1], last .. '-0', 't', ARGV[3], 'd', ARGV[i])
end
local keep = tonumber(ARGV[2])
if keep > 0 then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', keep)
end
redis.call('SET', KEYS[2], last, 'PX', ARGV[1])
return last
"""
"""Append a batch of events to a run's stream with ids ``{seq}-0`` and trim it, in one step.

The next seq follows the newest entry; ``keep`` is at least 1, so the newest entry
survives every trim and a seq is never reused (XADD also refuses an id at or below
the stream's last one). The token makes a retried append return its first result.
"""

DELETE_EVENTS = """
-- KEYS: events stream
local count = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return count
"""

ACQUIRE_LOCK = """
-- KEYS: lock   ARGV: token, ttl (ms)
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
"""Take the lock if it is free; a retry after a lost reply finds its own token and succeeds."""

RELEASE_LOCK = """
-- KEYS: lock   ARGV: token
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
"""Delete the lock only if it still holds our token (never another holder's lock)."""

EXTEND_LOCK = """
-- KEYS: lock   ARGV: token, ttl (ms)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
"""Reset the lock's expiry only if we still hold it."""

ACQUIRE_LEASE = """
-- KEYS: lease   ARGV: holder, ttl (ms)
local current = redis.call('GET', KEYS[1])
if (not current) or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {ARGV[1], tonumber(ARGV[2])}
end
return {current, redis.call('PTTL', KEYS[1])}
"""
"""Take a run's lease if it is free or already ours; else report the holder and its time left.

Renewing and releasing a lease use EXTEND_LOCK and RELEASE_LOCK with the holder as token.
"""

GET_LEASE = """
-- KEYS: lease
local current = redis.call('GET', KEYS[1])
if not current then
  return false
end
return {current, redis.call('PTTL', KEYS[1])}
"""
"""The lease's holder and milliseconds left, read together."""
