"""A writer process for the crash-safety tests (run as a script, not collected by pytest).

    python sqlite_writer.py URL WRITER_ID COUNT [ACK_FILE]

Prints ``ready`` and waits for a line on stdin before writing, so several
writers start together. Writes COUNT operations; after each acknowledged
operation it appends one line to ACK_FILE (when given), so a test that kills
this process knows exactly which writes were acknowledged. Prints ``done in N s`` at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from gecko.core.factories import create_storage


async def main(url: str, writer: int, count: int, ack_path: str | None) -> None:
    ack = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND) if ack_path else None
    async with await create_storage(url) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        for i in range(count):
            if i % 10 == 9:
                seq = await store.append_checkpoint("shared-run", {"writer": writer, "i": i})
                record = {"op": "checkpoint", "seq": seq, "writer": writer, "i": i}
            elif i % 10 == 4:
                items = {
                    f"w{writer}:batch:{i}:{j}": {"writer": writer, "i": i, "j": j} for j in range(5)
                }
                await store.set_many(items)
                record = {"op": "batch", "keys": sorted(items), "writer": writer, "i": i}
            else:
                key = f"w{writer}:{i}"
                await store.set(key, {"writer": writer, "i": i, "pad": "p" * 200})
                record = {"op": "set", "key": key, "writer": writer, "i": i}
            if ack is not None:
                os.write(ack, (json.dumps(record) + "\n").encode())
        elapsed = time.perf_counter() - started
    print(f"done in {elapsed:.2f} s", flush=True)


if __name__ == "__main__":
    url, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    asyncio.run(main(url, writer, count, sys.argv[4] if len(sys.argv) > 4 else None))
