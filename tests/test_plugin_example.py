"""The example third-party plugin, installed from wheels next to a broken plugin, end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "gecko-plugin-example"
BROKEN = ROOT / "tests" / "plugins" / "gecko-broken-plugin"


def build_wheel(uv: str, project: Path, out: Path) -> Path:
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(project)],
        check=True,
        capture_output=True,
    )
    return next(out.glob(project.name.replace("-", "_") + "-*.whl"))


@pytest.fixture(scope="module")
def plugin_wheels(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    import shutil
    import sys

    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv is not None
    out = tmp_path_factory.mktemp("plugin-wheels")
    return [str(build_wheel(uv, EXAMPLE, out)), str(build_wheel(uv, BROKEN, out))]


@pytest.fixture
def python(fresh_venv: Callable[..., Path], plugin_wheels: list[str]) -> Path:
    return fresh_venv("gecko-core", extra=[*plugin_wheels, "pytest>=8"])


def run(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_listed_next_to_a_broken_plugin(python: Path) -> None:
    gecko = str(python.parent / "gecko")
    result = subprocess.run([gecko, "plugins", "list", "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    example = plugins["gecko-plugin-example"]
    assert example["status"] == "ok" and example["version"] == "0.1.0"
    assert example["registers"] == {"storage": ["jsondir"], "tools": ["word_count"]}
    assert plugins["gecko-core"]["status"] == "ok"
    assert "gecko_dependency_that_is_not_installed" in plugins["gecko-broken-plugin"]["status"]
    wide = {**os.environ, "COLUMNS": "200"}  # one line per plugin (narrower terminals wrap)
    table = subprocess.run([gecko, "plugins", "list"], capture_output=True, text=True, env=wide)
    assert table.returncode == 0
    assert re.search(
        r"^gecko-plugin-example\s+0\.1\.0\s.*storage: jsondir; tools: word_count\s+ok$",
        table.stdout,
        re.M,
    )


def test_scheme_and_tool_work_through_gecko(python: Path, tmp_path: Path) -> None:
    script = tmp_path / "use.py"
    script.write_text(
        f"""
import asyncio
from gecko.core.factories import create_storage, create_tool

async def main():
    async with await create_storage("jsondir://{tmp_path}/data") as store:
        await store.set("会话", {{"turns": [1, 2]}})
        assert await store.get("会话") == {{"turns": [1, 2]}}
    print((await create_tool("word_count").execute({{"text": "a b a"}}))["words"])

asyncio.run(main())
"""
    )
    result = run(python, str(script))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


def test_passes_the_conformance_suite(python: Path, tmp_path: Path) -> None:
    result = run(
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(EXAMPLE / "tests"),
        "--rootdir",
        str(EXAMPLE),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout) and "failed" not in result.stdout


def test_readme_example_runs(python: Path, tmp_path: Path) -> None:
    readme = (EXAMPLE / "README.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", readme, re.S)
    script = tmp_path / "readme.py"
    script.write_text(code)
    result = run(python, str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "{'name': 'Ada'}" in result.stdout
