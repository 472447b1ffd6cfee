"""An appender process for the cross-process event-log tests (run as a script, not collected).

    python sqlite_event_appender.py URL RUN_ID WRITER COUNT [KEEP]

Opens the store, prints ``ready`` and waits for a line on stdin, so several
appenders start together. Then appends COUNT batches of 1-3 events
``{"writer": W, "i": i, "j": j}`` (``keep=KEEP`` when given) and prints one JSON
line per acknowledged batch: ``{"i": i, "size": n, "last": seq}``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from gecko.core.factories import create_storage


async def main(url: str, run_id: str, writer: int, count: int, keep: int | None) -> None:
    async with await create_storage(url) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(count):
            size = 1 + (writer + i) % 3
            batch = [{"writer": writer, "i": i, "j": j} for j in range(size)]
            last = await store.append_events(run_id, batch, keep=keep)
            print(json.dumps({"i": i, "size": size, "last": last}), flush=True)


if __name__ == "__main__":
    keep = int(sys.argv[5]) if len(sys.argv) > 5 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), keep))
