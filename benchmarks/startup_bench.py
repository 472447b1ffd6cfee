"""Startup cost: `gecko plugins list` and `from gecko import Agent`, beside their floors.

Goals (issue 19, quiet machine): `python -c "from gecko import Agent"` <= 100 ms and
`gecko plugins list` <= 60 ms with every first-party package installed. Each command runs
``--rounds`` times, the commands taking turns round by round (so a load change on the
shared machine hits them alike); the table has the median and the range. Baselines in the
same run: `python -c pass`, and the imports each command cannot avoid (pydantic's
``BaseModel`` with asyncio and anyio for the agent; pluggy and click for the listing).
Bytecode caches are written and used (``PYTHONDONTWRITEBYTECODE`` is dropped for the timed
commands), as in an installed environment.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import load, machine, range_ms, ratio, table

# What any module defining a pydantic model costs (schema build deferred, as Gecko's are).
ONE_MODEL = """import asyncio, anyio
from pydantic import BaseModel
class M(BaseModel, defer_build=True):
    x: int
"""
# What `plugins list` would cost if it did not ask plugins for their click commands (it
# must: register_commands builds click objects, and its failures show in the listing).
NO_CLICK = (
    "from gecko.core.plugins.manager import get_plugin_manager\nget_plugin_manager().list_plugins()"
)


def main(rounds: int) -> None:
    python = sys.executable
    gecko = shutil.which("gecko", path=str(Path(python).parent)) or "gecko"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"GECKO_LOAD_PLUGINS", "PYTHONDONTWRITEBYTECODE"}
    }
    listed = json.loads(
        subprocess.run(
            [gecko, "plugins", "list", "--json"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
    )
    names = sorted(p["name"] for p in listed["plugins"])
    cases = [
        ("python -c pass (baseline)", [python, "-c", "pass"]),
        ("python -c 'import gecko'", [python, "-c", "import gecko"]),
        ("floor: asyncio, anyio, one pydantic model", [python, "-c", ONE_MODEL]),
        ("python -c 'from gecko import Agent'", [python, "-c", "from gecko import Agent"]),
        ("floor: import pluggy, click", [python, "-c", "import pluggy, click"]),
        ("reference: the listing without commands (no click)", [python, "-c", NO_CLICK]),
        ("gecko plugins list", [gecko, "plugins", "list"]),
        ("gecko plugins list --json", [gecko, "plugins", "list", "--json"]),
    ]
    samples: dict[str, list[float]] = {label: [] for label, _ in cases}
    for argv in (argv for _, argv in cases):  # warm-up: bytecode caches, page cache
        subprocess.run(argv, check=True, capture_output=True, env=env)
    loads = [load()]
    for _ in range(rounds):
        for label, argv in cases:
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=env)
            samples[label].append(time.perf_counter() - start)
    loads.append(load())
    baseline = statistics.median(samples[cases[0][0]])
    rows = []
    for label, _ in cases:
        median = statistics.median(samples[label])
        rows.append(
            (
                label,
                median * 1000,
                range_ms(samples[label]),
                (median - baseline) * 1000,
                ratio(median, baseline),
            )
        )
    print(
        f"# startup — {machine()}; median of {rounds} interleaved rounds; "
        f"plugins installed: {', '.join(names)}\n"
        f"# {loads[0]} before, {loads[1]} after\n"
    )
    print(table(["command", "median ms", "range ms", "over baseline ms", "vs baseline"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="runs of every command")
    main(parser.parse_args().rounds)
