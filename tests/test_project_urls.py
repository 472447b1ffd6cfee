"""Every package's metadata points at the same homepage, docs, repository, changelog and issues."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://github.com/gecko-ai/gecko"
EXPECTED = {
    "Homepage": BASE,
    "Documentation": "https://gecko-ai.github.io/gecko/",
    "Repository": BASE,
    "Changelog": f"{BASE}/blob/main/CHANGELOG.md",
    "Issues": f"{BASE}/issues",
}


@pytest.mark.parametrize(
    "pyproject", sorted(ROOT.glob("packages/*/pyproject.toml")), ids=lambda p: p.parent.name
)
def test_package_declares_the_project_urls(pyproject: Path) -> None:
    urls = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("urls", {})
    assert urls == EXPECTED, f"set [project.urls] in {pyproject.relative_to(ROOT)} to {EXPECTED}"


def test_changelog_and_license_exist() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
