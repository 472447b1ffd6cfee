"""The fast entry-point scanner finds exactly what importlib.metadata finds.

On this (editable) workspace environment, in a fresh virtualenv with wheels, and
with zipped distributions on ``sys.path``, where the scanner hands over to
importlib.metadata.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from importlib.metadata import entry_points as metadata_entry_points
from pathlib import Path

import pytest

from gecko.core.plugins.discovery import (
    _from_importlib_metadata,
    _parse_group,
    _scan,
    entry_points,
)

# Run inside another interpreter: both answers for each group, as sorted JSON lists.
COMPARE = """
import json, sys
from importlib.metadata import entry_points
from gecko.core.plugins.discovery import _scan
out = {}
for group in sys.argv[1:]:
    fast = _scan(group)
    out[group] = {
        "scan": None if fast is None else sorted(
            [ep.name, ep.value, ep.distribution, ep.version] for ep in fast
        ),
        "importlib": sorted(
            [ep.name, ep.value, ep.dist.name, ep.dist.version] for ep in entry_points(group=group)
        ),
    }
print(json.dumps(out))
"""


def reference(group: str) -> list[tuple[str, str, str | None, str | None]]:
    """What importlib.metadata finds for ``group`` on the current ``sys.path``, sorted."""
    return sorted(
        (ep.name, ep.value, ep.dist.name if ep.dist else None, ep.dist.version if ep.dist else None)
        for ep in metadata_entry_points(group=group)
    )


@pytest.mark.parametrize("group", ["gecko", "console_scripts", "pytest11"])
def test_same_entry_points_as_importlib_metadata(group: str) -> None:
    scanned = _scan(group)
    assert scanned is not None, "the workspace environment needs no fallback"
    fast = sorted((ep.name, ep.value, ep.distribution, ep.version) for ep in scanned)
    assert fast == reference(group) and fast


def test_same_entry_points_in_a_fresh_venv_with_wheels(
    fresh_venv: Callable[..., Path],
) -> None:
    python = fresh_venv("gecko-core", "gecko-compose")
    groups = ["gecko", "console_scripts", "pytest11"]
    result = subprocess.run(
        [str(python), "-c", COMPARE, *groups], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    for group in groups:
        assert found[group]["scan"] == found[group]["importlib"], group
    names = {name for name, *_ in found["gecko"]["scan"]}
    assert names == {"gecko-core", "gecko-compose"}
    assert ["gecko", "gecko.core.cli.main:main", "gecko-core", "1.0.0"] in found["console_scripts"][
        "scan"
    ]


def _zipped_distributions(folder: Path) -> list[Path]:
    """A zip holding a dist-info and an egg holding EGG-INFO, each declaring a gecko plugin."""
    wheel_like = folder / "zipped.zip"
    with zipfile.ZipFile(wheel_like, "w") as archive:
        info = "gecko_zipped-1.5.dist-info"
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: gecko-zipped\nVersion: 1.5\n"
        )
        archive.writestr(
            f"{info}/entry_points.txt", "[gecko]\ngecko-zipped = gecko_zipped.plugin\n"
        )
    egg = folder / "gecko_egged-2.0-py3.11.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        archive.writestr(
            "EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: gecko-egged\nVersion: 2.0\n"
        )
        archive.writestr(
            "EGG-INFO/entry_points.txt", "[gecko]\ngecko-egged = gecko_egged.plugin:hooks\n"
        )
    return [wheel_like, egg]


def test_zipped_distributions_fall_back_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", [*map(str, _zipped_distributions(tmp_path)), *sys.path])
    assert _scan("gecko") is None  # the scanner reads directories only: it hands over
    found = sorted((ep.name, ep.value, ep.distribution, ep.version) for ep in entry_points("gecko"))
    assert found == reference("gecko")
    assert ("gecko-zipped", "gecko_zipped.plugin", "gecko-zipped", "1.5") in found
    assert ("gecko-egged", "gecko_egged.plugin:hooks", "gecko-egged", "2.0") in found
    assert any(name == "gecko-core" for name, *_ in found)  # the directories are still read


def test_fallback_matches_too() -> None:
    assert sorted(e.name for e in _from_importlib_metadata("gecko")) == sorted(
        e.name for e in entry_points("gecko")
    )


def test_parse_group_reads_only_its_section() -> None:
    text = "[console_scripts]\ngecko = x:y\n\n[gecko]\n# a comment\nmy-plugin = my_plugin.plugin\nother=pkg.mod:attr\n[pytest11]\nz = q\n"
    assert _parse_group(text, "gecko") == [
        ("my-plugin", "my_plugin.plugin"),
        ("other", "pkg.mod:attr"),
    ]


def test_first_distribution_on_sys_path_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder, version in (("first", "2.0"), ("second", "1.0")):
        info = tmp_path / folder / f"gecko_shadow-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: gecko-shadow\nVersion: {version}\n\nbody\n"
        )
        (info / "entry_points.txt").write_text(f"[gecko]\ngecko-shadow = shadow_{folder}\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "first"), str(tmp_path / "second")])
    [found] = entry_points("gecko")
    assert (found.value, found.version, found.distribution) == (
        "shadow_first",
        "2.0",
        "gecko-shadow",
    )
