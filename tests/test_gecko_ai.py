"""gecko-ai, the meta-distribution behind Gecko 0.4's install lines, installed from its wheel.

The first-party wheels are given to uv as constraints (``name @ file://...``): a
constraint never adds a package, so every plugin found installed came through
gecko-ai's own requirements, and each resolves to the wheel built from this checkout.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest


def _declares_plugin(wheel: Path) -> bool:
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        return any("[gecko]" in archive.read(n).decode() for n in names)


@pytest.fixture
def local_wheels(wheelhouse: dict[str, Path], tmp_path: Path) -> Path:
    """A constraints file resolving every first-party distribution to its built wheel."""
    constraints = tmp_path / "local-wheels.txt"
    constraints.write_text(
        "".join(
            f"{name} @ {wheel.as_uri()}\n"
            for name, wheel in wheelhouse.items()
            if name != "gecko-ai"
        )
    )
    return constraints


def test_wheel_ships_metadata_only(wheelhouse: dict[str, Path]) -> None:
    files = zipfile.ZipFile(wheelhouse["gecko-ai"]).namelist()
    assert files and all(f.startswith("gecko_ai-1.0.0.dist-info/") for f in files), files
    assert not _declares_plugin(wheelhouse["gecko-ai"])


@pytest.mark.slow
def test_gecko_ai_all_installs_every_first_party_plugin(
    fresh_venv: Callable[..., Path], wheelhouse: dict[str, Path], local_wheels: Path
) -> None:
    python = fresh_venv(extra=[f"{wheelhouse['gecko-ai']}[all]", "--constraint", str(local_wheels)])
    listing = subprocess.run(
        [str(python.parent / "gecko"), "plugins", "list", "--json"], capture_output=True, text=True
    )
    assert listing.returncode == 0, listing.stderr
    statuses = {p["name"]: p["status"] for p in json.loads(listing.stdout)["plugins"]}
    first_party = {name for name, wheel in wheelhouse.items() if _declares_plugin(wheel)}
    assert len(first_party) >= 6
    assert statuses == {name: "ok" for name in first_party}


@pytest.mark.slow
def test_plain_gecko_ai_is_core_and_compose(
    fresh_venv: Callable[..., Path], wheelhouse: dict[str, Path], local_wheels: Path
) -> None:
    python = fresh_venv(extra=[str(wheelhouse["gecko-ai"]), "--constraint", str(local_wheels)])
    code = (
        "import importlib.metadata as m\n"
        "print(sorted(d.metadata['Name'] for d in m.distributions()"
        " if d.metadata['Name'].startswith('gecko')))\n"
        "from gecko import Agent, Workflow, Team\n"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(["gecko-ai", "gecko-compose", "gecko-core"])
