"""docs/plugins.md builds a working plugin from its own text.

The guide's file blocks (a code block whose first line is ``# file: <path>``) are
written into a new project, built into a wheel, installed with gecko-core[testing]
into a fresh venv, and the project's tests (the conformance suite) and
``mypy --strict`` run there, as a plugin author following the guide would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugins.md"
FENCE = re.compile(r"^```(\w+)[^\n]*\n# file: (\S+)\n(.*?)^```", re.S | re.M)
LAYOUT = re.compile(r"### 1\. Layout\n+```\n(.*?)^```", re.S | re.M)


def guide_files(text: str) -> dict[str, str]:
    """``path -> content`` of every file block; a path given twice is an error."""
    files: dict[str, str] = {}
    for match in FENCE.finditer(text):
        path = match.group(2)
        assert path not in files, f"docs/plugins.md shows {path} twice"
        files[path] = f"# file: {path}\n{match.group(3)}"
    return files


def layout_files(text: str) -> set[str]:
    """The files the guide's layout tree lists (``gecko-weather/`` then indented paths)."""
    found = LAYOUT.search(text)
    assert found is not None, "docs/plugins.md lost its '### 1. Layout' tree"
    lines = found.group(1).splitlines()[1:]
    return {line.split("#")[0].strip() for line in lines if line.strip()}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = GUIDE.read_text(encoding="utf-8")
    files = guide_files(text)
    assert set(files) == layout_files(text), "every file of the layout is shown, and no other"
    root = tmp_path_factory.mktemp("guide") / "gecko-weather"
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def plugin_wheel(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv is not None
    out = tmp_path_factory.mktemp("guide-wheel")
    build = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(project)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = out.glob("gecko_weather-*.whl")
    return wheel


@pytest.fixture
def python(
    fresh_venv: Callable[..., Path], wheelhouse: dict[str, Path], plugin_wheel: Path
) -> Path:
    # What the guide says to install: the plugin, gecko-core[testing] and mypy (the
    # version the lock pins, through UV_CONSTRAINT) and nothing else.
    core = f"gecko-core[testing] @ {wheelhouse['gecko-core'].as_uri()}"
    return fresh_venv(extra=[core, str(plugin_wheel), "mypy"])


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_file_blocks_are_found() -> None:
    files = guide_files(GUIDE.read_text(encoding="utf-8"))
    assert {"pyproject.toml", "src/gecko_weather/plugin.py", "tests/test_store.py"} <= set(files)
    assert (
        '[project.entry-points.gecko]\ngecko-weather = "gecko_weather.plugin"'
        in (files["pyproject.toml"])
    )


def test_guide_plugin_passes_conformance_and_mypy_strict(python: Path, project: Path) -> None:
    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    passed = re.search(r"(\d+) passed", tests.stdout)
    assert passed is not None and int(passed.group(1)) > 30, tests.stdout
    assert "failed" not in tests.stdout and "skipped" not in tests.stdout, tests.stdout

    types = run(python, "-m", "mypy", "--strict", "src", "tests", cwd=project)
    assert types.returncode == 0, types.stdout + types.stderr
    assert "Success: no issues found in 5 source files" in types.stdout, types.stdout
