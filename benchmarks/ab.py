"""Run a benchmark against the working tree and a git revision, taking turns, in one session.

    hatch run bench:python benchmarks/ab.py [--rounds N] REV compose_bench.py [-- args...]

The revision's packages are checked out into a temporary git worktree and put first on
``PYTHONPATH`` (``gecko`` is a namespace package, so the revision's modules shadow the
editable installs); the benchmark script itself is always the working tree's, so both sides
measure the same workload. Rounds alternate (REV, current, REV, current, ...) so load changes
on the machine hit both alike; each round's output is printed under its label.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worktree(revision: str, folder: Path) -> Path:
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return folder


def run(script: Path, args: list[str], pythonpath: list[Path]) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"{script.name} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revision", help="the baseline: a commit, tag or branch")
    parser.add_argument("script", help="a benchmark under benchmarks/, e.g. compose_bench.py")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    options = parser.parse_args()
    script = ROOT / "benchmarks" / options.script
    args = [a for a in options.args if a != "--"]
    with tempfile.TemporaryDirectory(prefix="gecko-ab-") as tmp:
        base = worktree(options.revision, Path(tmp) / "base")
        try:
            sources = sorted(base.glob("packages/*/src"))
            for round_ in range(1, options.rounds + 1):
                for label, path in ((options.revision, sources), ("working tree", [])):
                    print(f"===== {label}, round {round_} =====", flush=True)
                    print(run(script, args, path), flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False
            )


if __name__ == "__main__":
    main()
