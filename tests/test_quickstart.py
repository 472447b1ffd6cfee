"""The README's first command, verbatim, from a clean clone (the second is what .ci/run runs)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```bash\n(.*?)```", quick_start, re.S)[:1]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands() -> None:
    demo, tests = readme_commands()
    assert demo.endswith("hatch run demo") and tests.endswith("hatch test")
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_demo_command_from_a_clean_clone(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "gecko"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    demo, _ = readme_commands()
    # As a new user runs it: the machine's python3 (not this test environment's), no key.
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    if shutil.which("python3", path=path) is None:
        pytest.skip("no python3 outside the test environment")
    drop = ("VIRTUAL_ENV", "HATCH_ENV_ACTIVE", "PYTHONPATH", "GECKO_MODEL")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.endswith("_API_KEY")}
    env["PATH"] = path
    result = subprocess.run(
        ["bash", "-c", demo], cwd=clone, env=env, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "OFFLINE scripted model" in result.stdout
    assert "the worker crashed (killed by SIGKILL)" in result.stdout
    assert "Verdict:" in result.stdout and "flowchart" in result.stdout
