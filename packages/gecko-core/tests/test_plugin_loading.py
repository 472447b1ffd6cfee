"""Entry-point loading in fresh processes: broken plugins, GECKO_LOAD_PLUGINS, the CLI.

Each test installs small distributions into a temporary directory (a real
``*.dist-info`` with ``entry_points.txt``, as pip writes it) and runs Python in
a subprocess with that directory on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def make_dist(site: Path, name: str, module: str, source: str) -> None:
    """Write a minimal installed distribution exposing ``module`` as a ``gecko`` plugin."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[gecko]\n{name} = {module}\n")


GOOD = """
    from gecko.core.plugins import hookimpl

    async def open_store(url, **options):
        from gecko.core.storage.memory import MemoryStore
        return MemoryStore()

    @hookimpl
    def register_storage(register):
        register("weather", open_store)

    @hookimpl
    def register_commands(cli):
        import click

        @cli.command()
        def forecast():
            "Print the forecast."
            click.echo("sunny")
"""
BROKEN_IMPORT = "raise ImportError('missing dependency gecko_frobnicate')\n"
BROKEN_COMMANDS = """
    from gecko.core.plugins import hookimpl

    @hookimpl
    def register_commands(cli):
        raise RuntimeError('cannot build commands')
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "gecko-weather", "gecko_weather_plugin", GOOD)
    make_dist(site, "gecko-broken", "gecko_broken_plugin", BROKEN_IMPORT)
    make_dist(site, "gecko-badcli", "gecko_badcli_plugin", BROKEN_COMMANDS)
    return site


def run(
    site: Path, *args: str, env: dict[str, str] | None = None, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "GECKO_LOAD_PLUGINS"}
    environ["PYTHONPATH"] = os.pathsep.join([str(site), environ.get("PYTHONPATH", "")])
    environ.update(env or {})
    command = (
        [sys.executable, "-c", code]
        if code
        else [sys.executable, "-m", "gecko.core.cli.main", *args]
    )
    return subprocess.run(command, capture_output=True, text=True, env=environ, timeout=120)


def plugins_json(site: Path, env: dict[str, str] | None = None) -> dict[str, dict]:
    result = run(site, "plugins", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)["plugins"]}


def test_broken_plugins_are_listed_and_break_nothing(site: Path) -> None:
    plugins = plugins_json(site)
    assert plugins["gecko-core"]["status"] == "ok"
    assert plugins["gecko-weather"]["status"] == "ok"
    assert plugins["gecko-weather"]["registers"] == {
        "storage": ["weather"],
        "commands": ["forecast"],
    }
    assert plugins["gecko-weather"]["version"] == "0.1.0"
    broken = plugins["gecko-broken"]["status"]
    assert broken.startswith("error: failed to load") and "gecko_frobnicate" in broken
    assert "cannot build commands" in plugins["gecko-badcli"]["status"]
    # plugin commands work next to the broken plugins
    forecast = run(site, "forecast")
    assert forecast.returncode == 0 and forecast.stdout.strip() == "sunny"


def test_table_output(site: Path) -> None:
    result = run(site, "plugins", "list", env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["NAME", "VERSION", "HOOKS", "REGISTERS", "STATUS"]
    weather = next(line for line in lines if line.startswith("gecko-weather"))
    assert "storage: weather" in weather and weather.rstrip().endswith("ok")


def test_check_exits_1_when_a_plugin_has_an_error(site: Path) -> None:
    assert run(site, "plugins", "list").returncode == 0  # the plain listing never fails
    checked = run(site, "plugins", "list", "--check")
    assert checked.returncode == 1
    assert "NAME" in checked.stdout  # the table is still printed
    as_json = run(site, "plugins", "list", "--check", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["plugins"]
    healthy = run(site, "plugins", "list", "--check", env={"GECKO_LOAD_PLUGINS": "gecko-weather"})
    assert healthy.returncode == 0, healthy.stderr
    missing = {"GECKO_LOAD_PLUGINS": "gecko-weather,gecko-nope"}
    assert run(site, "plugins", "list", "--check", env=missing).returncode == 1


def test_each_problem_is_printed_once(site: Path) -> None:
    result = run(site, "plugins", "list", env={"GECKO_LOAD_PLUGINS": "gecko-broken,gecko-nope"})
    assert result.returncode == 0
    assert result.stderr.count("gecko_frobnicate") == 1, result.stderr
    assert result.stderr.count("gecko-nope") == 1, result.stderr
    assert "warning: gecko-broken: failed to load: ImportError: missing dependency" in result.stderr


def test_table_fits_the_terminal_and_json_keeps_everything(site: Path) -> None:
    narrow = run(site, "plugins", "list", env={"COLUMNS": "72"})
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 72
    assert lines[0].split() == ["NAME", "VERSION", "HOOKS", "REGISTERS", "STATUS"]
    broken = next(line for line in lines if line.startswith("gecko-broken"))
    assert broken.endswith("…") and "gecko_frobnicate" not in broken
    # wrapped cells keep every word: gecko-core's tools are on a continuation line
    assert "gecko-core" not in narrow.stdout.split("calculator")[0].splitlines()[-1]
    assert "calculator" in narrow.stdout and "current_time" in narrow.stdout
    narrow_json = run(site, "plugins", "list", "--json", env={"COLUMNS": "72"})
    wide_json = run(site, "plugins", "list", "--json", env={"COLUMNS": "400"})
    assert narrow_json.stdout == wide_json.stdout
    plugins = {p["name"]: p for p in json.loads(narrow_json.stdout)["plugins"]}
    assert "gecko_frobnicate" in plugins["gecko-broken"]["status"]


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gecko.core.cli.main", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "gecko" in result.stdout and "1." in result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", {"gecko-core"}),
        ("gecko-weather", {"gecko-core", "gecko-weather"}),
        ("gecko-weather, gecko-broken", {"gecko-core", "gecko-weather", "gecko-broken"}),
    ],
)
def test_gecko_load_plugins_selects(site: Path, value: str, expected: set[str]) -> None:
    assert set(plugins_json(site, env={"GECKO_LOAD_PLUGINS": value})) == expected


def test_unknown_name_in_gecko_load_plugins_warns(site: Path) -> None:
    result = run(site, "plugins", "list", env={"GECKO_LOAD_PLUGINS": "gecko-weather,gecko-nope"})
    assert result.returncode == 0
    assert "gecko-nope" in result.stderr and "not installed" in result.stderr


def test_failed_plugin_is_named_when_its_scheme_is_missing(site: Path) -> None:
    code = """
import asyncio
from gecko.core.factories import create_storage
try:
    asyncio.run(create_storage("frob://x"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""
    result = run(site, code=code)
    assert "NotRegisteredError" in result.stdout
    assert "gecko-broken" in result.stdout and "gecko_frobnicate" in result.stdout


def test_first_party_scheme_not_installed_names_the_package(site: Path) -> None:
    code = """
import asyncio
from gecko.core.factories import create_storage
try:
    asyncio.run(create_storage("redis://localhost:6379/0"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""
    result = run(site, code=code, env={"GECKO_LOAD_PLUGINS": "gecko-weather"})
    assert "NotRegisteredError" in result.stdout
    assert "pip install gecko-storage-redis" in result.stdout


def test_first_party_plugin_that_failed_carries_its_failure(site: Path) -> None:
    # Make gecko-storage-sqlite's plugin module fail to import, as a broken install would.
    code = """
import asyncio, sys
sys.modules["gecko.storage.sqlite.plugin"] = None
from gecko.core.factories import create_storage
try:
    asyncio.run(create_storage("sqlite:///x.db"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""
    result = run(site, code=code)
    if "gecko-storage-sqlite" not in plugins_json(site):
        pytest.skip("gecko-storage-sqlite is not installed in this environment")
    assert "PluginError" in result.stdout
    assert "gecko-storage-sqlite" in result.stdout and "failed to load" in result.stdout


def test_listing_plugins_imports_no_heavy_dependency(site: Path) -> None:
    code = """
import sys
from gecko.core.plugins import get_plugin_manager
get_plugin_manager().list_plugins()
heavy = [m for m in ("litellm", "chromadb", "lancedb", "pymilvus", "redis", "sqlmodel", "sqlalchemy",
                     "opentelemetry", "pydantic") if m in sys.modules]
print(",".join(heavy) or "none")
"""
    result = run(site, code=code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_import_gecko_is_light() -> None:
    code = "import sys, gecko; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pluggy', 'click', 'anyio', 'gecko')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['gecko']"
