"""The README's main job: the demo ingests, crashes, resumes and prints a sourced answer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo" / "app.py"


def run_demo(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GECKO_") and not k.endswith("_API_KEY")
    }
    environ.update(env)
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=300,
    )


def test_demo_runs_offline_crashes_and_resumes(tmp_path: Path) -> None:
    result = run_demo(tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "OFFLINE scripted model" in out
    assert re.search(r"\d+ file\(s\), \d+ chunk\(s\): \d+ added", out)
    assert "the worker crashed (killed by SIGKILL)" in out
    assert "node 'panel' completed" in result.stderr and "simulating a crash" in result.stderr
    assert re.search(r"skipped on resume\s+retrieve, panel", out)
    assert re.search(r"run after resume\s+verdict, answer", out)
    assert "Verdict:" in out and re.search(r"\[1\] source: docs/\w+\.md", out)
    assert re.search(r"tokens\s+\d+ after resume \+ [1-9]\d* restored", out)
    assert "flowchart" in out and "retrieve" in out.split("flowchart", 1)[1]
    assert (tmp_path / ".gecko" / "demo.db").exists() and (tmp_path / ".gecko" / "vectors").is_dir()

    second = run_demo(tmp_path, "--question", "What does gecko plugins list show?")
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"0 added, \d+ unchanged", second.stdout)  # re-ingesting adds nothing


def test_demo_switches_stores_with_environment_variables(tmp_path: Path) -> None:
    result = run_demo(
        tmp_path,
        GECKO_STORAGE=f"sqlite:///{tmp_path}/other.db",
        GECKO_VECTOR_STORE=f"chroma://{tmp_path}/chroma",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"chroma://{tmp_path}/chroma" in result.stdout and (tmp_path / "other.db").exists()
    assert "Verdict:" in result.stdout
