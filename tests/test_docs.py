"""Every ```python block in the docs and READMEs runs, as a standalone program, offline.

A block whose info string carries a reason (```python needs-key, needs-server) cannot run
without a provider key or an external server and is reported as skipped with that reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_REASONS = {"needs-key": "needs a provider API key", "needs-server": "needs an external server"}
BLOCK = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.S | re.M)
# The example plugin's README runs in its own test, where the plugin is installed.
EXCLUDED = {ROOT / "examples" / "gecko-plugin-example" / "README.md"}


def documents() -> list[Path]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    pages += sorted((ROOT / "packages").glob("*/README.md"))
    pages += sorted((ROOT / "examples").glob("**/README.md"))
    return [page for page in pages if page.exists() and page not in EXCLUDED]


def blocks() -> list[object]:
    params = []
    for page in documents():
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            info, code = match.group(1).strip(), match.group(2)
            line = text.count("\n", 0, match.start()) + 1
            ident = f"{page.relative_to(ROOT)}:{line}"
            marks = []
            if info:
                reason = SKIP_REASONS.get(info)
                if reason is None:
                    raise ValueError(
                        f"{ident}: unknown code block info string {info!r}; use one of {sorted(SKIP_REASONS)}"
                    )
                marks.append(pytest.mark.skip(reason=reason))
            params.append(pytest.param(code, id=ident, marks=marks))
    return params


def test_docs_have_code() -> None:
    assert len(blocks()) > 10


@pytest.mark.parametrize("code", blocks())
def test_code_block_runs(code: str, tmp_path: Path, redis_url: str, postgres_url: str) -> None:
    # As a new user runs it: every installed plugin, no provider key, no default model.
    hidden = ("GECKO_LOAD_PLUGINS", "GECKO_MODEL")
    env = {k: v for k, v in os.environ.items() if k not in hidden and not k.endswith("_API_KEY")}
    env["REDIS_URL"] = redis_url  # the examples that talk to Redis read it
    env["POSTGRES_URL"] = postgres_url  # and those that talk to Postgres, this
    result = subprocess.run(
        [sys.executable, "-"],
        input=code,
        text=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
