"""Run every benchmark script in turn (``hatch run bench:all``); pass names to run a subset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(
        p
        for p in HERE.glob("*.py")
        # ab.py runs another benchmark against a git revision: it needs arguments
        if p.name not in {"common.py", "run_all.py", "ab.py"} and not p.name.startswith("_")
    )
    if names:
        scripts = [s for s in scripts if s.stem in names or s.name in names]
    failed = 0
    for script in scripts:
        print(f"\n===== {script.name} =====", flush=True)
        failed += subprocess.run([sys.executable, str(script)], cwd=HERE).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
