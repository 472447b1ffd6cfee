"""Built wheels: namespace layout, clean installs, the lazy top-level API (no editable installs)."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

SUBPACKAGES = {
    "gecko-core": "gecko.core",
    "gecko-compose": "gecko.compose",
    "gecko-storage-sqlite": "gecko.storage.sqlite",
    "gecko-storage-redis": "gecko.storage.redis",
    "gecko-storage-postgres": "gecko.storage.postgres",
    "gecko-rag": "gecko.rag",
    "gecko-models-litellm": "gecko.models.litellm",
    "gecko-mcp": "gecko.mcp",
}
FORBIDDEN = ("gecko/__init__.py", "gecko/storage/__init__.py", "gecko/models/__init__.py")
LAZY_NAMES = [
    "Agent",
    "AgentBuilder",
    "Message",
    "Role",
    "AgentOutput",
    "TokenUsage",
    "TokenMemory",
    "SummaryTokenMemory",
    "StructureEngine",
    "Workflow",
    "step",
    "Next",
    "Team",
    "__version__",
]


@pytest.mark.parametrize("name", sorted(SUBPACKAGES))
def test_wheel_layout(wheelhouse: dict[str, Path], name: str) -> None:
    files = set(zipfile.ZipFile(wheelhouse[name]).namelist())
    package_dir = SUBPACKAGES[name].replace(".", "/")
    assert f"{package_dir}/__init__.py" in files
    assert f"{package_dir}/py.typed" in files
    shipped = [f for f in FORBIDDEN if f in files]
    if name == "gecko-core":
        assert shipped == ["gecko/__init__.py"]
    else:
        assert shipped == [], f"{name} must not ship {shipped}"
    [entry_points] = [f for f in files if f.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheelhouse[name]).read(entry_points).decode()
    assert f"[gecko]\n{name} = " in text


def test_all_six_installed_from_wheels(fresh_venv: Callable[..., Path]) -> None:
    python = fresh_venv(*SUBPACKAGES, extra=["pytest>=8"])
    code = (
        "import importlib, gecko\n"
        f"for module in {sorted(SUBPACKAGES.values())!r}: importlib.import_module(module)\n"
        f"for name in {LAZY_NAMES!r}: getattr(gecko, name)\n"
        "from gecko import Agent, Workflow, Team, step, Next\n"
        "import gecko.core.testing\n"
        "print('site' in gecko.core.__file__ and 'site-packages' in gecko.__file__, gecko.__version__)\n"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "1.0.0"]
    listing = subprocess.run(
        [str(python.parent / "gecko"), "plugins", "list", "--json"], capture_output=True, text=True
    )
    assert listing.returncode == 0, listing.stderr
    statuses = {p["name"]: p["status"] for p in json.loads(listing.stdout)["plugins"]}
    assert statuses == {name: "ok" for name in SUBPACKAGES}


def test_missing_distribution_names_the_package(fresh_venv: Callable[..., Path]) -> None:
    python = fresh_venv("gecko-core")
    code = (
        "import gecko\n"
        "from gecko import Message\n"
        "try:\n"
        "    from gecko import Workflow\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "try:\n"
        "    import gecko.core.testing\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "pip install gecko-compose" in result.stdout
    assert "pip install 'gecko-core[testing]'" in result.stdout
