"""The API reference (docs/reference/) documents every public module of every package.

One page per distribution, ``docs/reference/<distribution>.md``, with one ``::: module`` line
per public module (no part of its dotted name starts with ``_``). The strict docs build
(``hatch run docs:build``) then fails on a module that cannot be collected; this test fails,
fast and without the docs environment, on a module that was added and never documented.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.M)
# gecko-core's ``gecko/__init__.py`` is the shared namespace: its page describes it in prose.
NAMESPACE_ROOTS = {"gecko"}


def public_modules(src: Path) -> set[str]:
    modules = set()
    for path in src.rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and not any(part.startswith("_") for part in parts):
            modules.add(".".join(parts))
    return modules - NAMESPACE_ROOTS


# Distributions with code (a meta-distribution such as gecko-ai has no src/ and no page).
PACKAGES = sorted(p.parent.name for p in ROOT.glob("packages/*/src") if p.is_dir())


@pytest.mark.parametrize("distribution", PACKAGES)
def test_every_public_module_has_a_reference_section(distribution: str) -> None:
    page = REFERENCE / f"{distribution}.md"
    assert page.exists(), (
        f"{page.relative_to(ROOT)} is missing: write it with one '::: module' line per public "
        f"module of packages/{distribution}/src and add it to the nav in mkdocs.yml"
    )
    documented = set(DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    modules = public_modules(ROOT / "packages" / distribution / "src")
    missing, stale = sorted(modules - documented), sorted(documented - modules)
    lines = ", ".join(f"'::: {module}'" for module in missing)
    assert not missing, f"add to {page.relative_to(ROOT)}: {lines}"
    assert not stale, f"{page.relative_to(ROOT)} documents modules that do not exist: {stale}"


def test_every_reference_page_belongs_to_a_package() -> None:
    pages = sorted(page.stem for page in REFERENCE.glob("*.md"))
    assert pages, "docs/reference/ has no pages"
    orphans = set(pages) - set(PACKAGES)
    assert not orphans, f"reference pages without a package under packages/: {sorted(orphans)}"
