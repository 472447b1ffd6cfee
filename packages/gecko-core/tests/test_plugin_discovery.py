"""The fast entry-point scanner finds what importlib.metadata finds."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points as metadata_entry_points
from pathlib import Path

import pytest

from gecko.core.plugins.discovery import _from_importlib_metadata, _parse_group, entry_points


@pytest.mark.parametrize("group", ["gecko", "console_scripts", "pytest11"])
def test_same_entry_points_as_importlib_metadata(group: str) -> None:
    fast = sorted((ep.name, ep.value, ep.distribution, ep.version) for ep in entry_points(group))
    reference = sorted(
        (ep.name, ep.value, ep.dist.name, ep.dist.version)
        for ep in metadata_entry_points(group=group)
    )  # type: ignore[union-attr]
    assert fast == reference and fast


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
