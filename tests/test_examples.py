"""Every example runs offline and shows what it claims."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

EXPECTED = {
    "rag_agent.py": [
        "2 added",
        "reimbursed within 30 days",
        "source: kb/company_policy.md",
        "['knowledge_search']",
    ],
    "recoverable_workflow.py": [
        "first attempt failed: node 'invoice' failed",
        "restored from checkpoint: ['fetch', 'price', 'stock'] | run on resume: ['invoice']",
        "36.75 EUR",
    ],
    "expert_review_team.py": [
        "expert 2: [absent] (ModelConnectionError",
        "2 of 3 experts answered",
    ],
    "concurrent_summary_memory.py": ["8 agents answered", "summarisation calls to the model: 1"],
    "workflow_next_loops.py": ["published after 4 drafts: intro, example, summary", "flowchart"],
}


def run(script: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GECKO_MODEL" and not k.endswith("_API_KEY")}
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_every_example_is_covered() -> None:
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example(name: str, tmp_path: Path) -> None:
    result = run(EXAMPLES / name, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for text in EXPECTED[name]:
        assert text in result.stdout, f"{text!r} missing from:\n{result.stdout}"
    again = run(EXAMPLES / name, tmp_path)  # examples can be run twice in the same place
    assert again.returncode == 0, again.stdout + again.stderr
