"""Startup cost: `gecko plugins list` and `import gecko`, side by side with `python -c pass`.

Goal (issue 2): `gecko plugins list` under 150 ms with all six distributions installed
(median of 10 runs), `python -c "import gecko"` under 50 ms; `from gecko import Agent` reported.
For reference, Simon Willison's `llm plugins` took about 620 ms on this machine with no plugin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from common import machine, median_ms, ratio, table, time_command

RUNS = 10


def main() -> None:
    python = sys.executable
    gecko = shutil.which("gecko", path=str(Path(python).parent)) or "gecko"
    env = {k: v for k, v in os.environ.items() if k != "GECKO_LOAD_PLUGINS"}
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
        ("python -c 'from gecko import Agent'", [python, "-c", "from gecko import Agent"]),
        ("gecko plugins list", [gecko, "plugins", "list"]),
        ("gecko plugins list --json", [gecko, "plugins", "list", "--json"]),
    ]
    results = [(label, median_ms(time_command(argv, runs=RUNS, env=env))) for label, argv in cases]
    baseline = results[0][1]
    rows = [(label, ms, ms - baseline, ratio(ms, baseline)) for label, ms in results]
    print(
        f"# startup — {machine()}; median of {RUNS} runs; plugins installed: {', '.join(names)}\n"
    )
    print(table(["command", "median ms", "over baseline ms", "vs baseline"], rows))


if __name__ == "__main__":
    main()
