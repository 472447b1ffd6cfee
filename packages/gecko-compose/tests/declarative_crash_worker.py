"""A YAML workflow run in a subprocess that test_declarative_crash.py kills with SIGKILL.

    python declarative_crash_worker.py STORE_URL OUT_DIR KILL_AT

Every function node appends ``<node> <idempotency key>`` to ``OUT_DIR/<node>.log``;
the node named KILL_AT writes ``OUT_DIR/ready`` and hangs there, to be killed.
The test process loads the same spec with ``load(url, out, None)`` to resume it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio

from gecko.compose import WorkflowContext, load_workflow

RUN_ID = "yaml-crash"
SPEC = """
workflow:
  id: crashy-yaml
  type: dag
  nodes:
    - {id: fetch, type: function, function: work, inputs: {name: fetch, value: "${input.order}"}}
    - id: check
      type: control
      subtype: switch
      dependencies: [fetch]
      condition: "${fetch.output.value > 10}"
      branches:
        - {case: true, target: big}
        - {default: small}
    - {id: big, type: function, function: work, inputs: {name: big, value: "${fetch.output.value}"}}
    - {id: small, type: function, function: work, inputs: {name: small, value: 0}}
    - {id: price, type: function, function: work, dependencies: [fetch], inputs: {name: price, value: 3}}
    - id: invoice
      type: function
      function: work
      dependencies: [big, small, price]
      inputs: {name: invoice, value: "${price.output.value * fetch.output.value}"}
  output: "${invoice.output}"
"""


def side_effect(out: Path, name: str, key: str) -> None:
    with open(out / f"{name}.log", "a", encoding="utf-8") as log:
        log.write(f"{name} {key}\n")
        log.flush()
        os.fsync(log.fileno())


def load(url: str, out: Path, kill_at: str | None) -> Any:
    async def work(name: str, value: Any, ctx: WorkflowContext) -> dict[str, Any]:
        side_effect(out, name, ctx.idempotency_key)
        if name == kill_at:
            (out / "ready").write_text(name, encoding="utf-8")
            await anyio.sleep_forever()
        return {"node": name, "value": value}

    return load_workflow(SPEC, functions={"work": work}, storage=url, lease_ttl=0.5)


async def main(url: str, out: Path, kill_at: str) -> None:
    async with load(url, out, kill_at) as wf:
        await wf.execute({"order": 12}, session_id=RUN_ID)
    (out / "finished").write_text("yes", encoding="utf-8")  # the test fails if we get here


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], Path(sys.argv[2]), sys.argv[3])
