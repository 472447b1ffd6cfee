"""Gecko 0.x import paths fail with their 1.0 home, as docs/migration.md lists them."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gecko.core.legacy_imports import MIGRATION_GUIDE, MovedError

MIGRATION = Path(__file__).resolve().parents[3] / "docs" / "migration.md"


def migration_rows() -> list[tuple[str, list[str]]]:
    """(0.x path, the 1.0 names of its row) for every 0.x path in the guide's import table."""
    rows = []
    for line in MIGRATION.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith(("`gecko.plugins", "`gecko.core.builder")):
            continue
        new = re.findall(r"`([^`]+)`", cells[1])
        previous = ""
        for written in re.findall(r"`([^`]+)`", cells[0]):
            path = written.split("(")[0]
            if not path.startswith("gecko."):  # `RetrievalTool` after `gecko.plugins.knowledge.X`
                path = f"{previous.rpartition('.')[0]}.{path}"
            rows.append((path, new))
            previous = path
    return rows


@pytest.fixture(autouse=True)
def forget_placeholders() -> Iterator[None]:
    yield
    for name in [n for n in sys.modules if n == "gecko.plugins" or n.startswith("gecko.plugins.")]:
        del sys.modules[name]


def test_the_guide_lists_the_0x_paths() -> None:
    paths = [path for path, _ in migration_rows()]
    assert "gecko.plugins.storage.factory.create_storage" in paths
    assert "gecko.plugins.knowledge.RetrievalTool" in paths
    assert len(paths) >= 10


@pytest.mark.parametrize(("path", "new"), migration_rows())
def test_every_0x_path_of_the_guide_names_its_new_home(path: str, new: list[str]) -> None:
    with pytest.raises(MovedError) as info:
        importlib.import_module(path)
    error = info.value
    assert isinstance(error, ModuleNotFoundError)
    assert error.name is not None and (path == error.name or path.startswith(error.name + "."))
    assert str(error).startswith(f"{error.name} is a Gecko 0.x import path")
    assert any(name in error.message for name in new), (error.message, new)
    assert MIGRATION_GUIDE in str(error) and "docs/migration.md" in MIGRATION_GUIDE


def test_import_of_a_0x_module_names_the_full_path_written() -> None:
    with pytest.raises(ModuleNotFoundError) as info:
        import gecko.plugins.storage.redis  # noqa: F401
    assert info.value.name == "gecko.plugins.storage.redis"
    assert "in Gecko 1.0: gecko.storage.redis" in str(info.value)
    assert "pip install gecko-storage-redis" in str(info.value)


def test_from_import_of_a_0x_name_names_the_name() -> None:
    with pytest.raises(ImportError) as info:
        from gecko.plugins.models import ZhipuChat  # noqa: F401
    assert info.value.name == "gecko.plugins.models.ZhipuChat"
    assert 'create_model("zhipu/glm-4-flash"' in str(info.value)
    with pytest.raises(ImportError, match=r"gecko\.plugins\.storage\.sqlite is a Gecko 0\.x"):
        from gecko.plugins.storage import sqlite  # noqa: F401


def test_a_0x_package_is_only_a_placeholder() -> None:
    import gecko.plugins

    assert gecko.plugins.__path__ == []
    assert not hasattr(gecko.plugins, "__wrapped__")  # tools probing dunders see a plain module
    with pytest.raises(MovedError, match=r"gecko\.plugins\.anything is a Gecko 0\.x import path"):
        gecko.plugins.anything


def test_names_outside_the_0x_layout_are_left_alone() -> None:
    for name in ("gecko.pluginsx", "gecko.core.builderx", "gecko.nosuchmodule"):
        with pytest.raises(ModuleNotFoundError) as info:
            importlib.import_module(name)
        assert not isinstance(info.value, MovedError)
    # the real modules still import (they are found before the finder is asked)
    assert importlib.import_module("gecko.core.plugins.manager").ENTRY_POINT_GROUP == "gecko"
    assert sum(type(f).__name__ == "_LegacyImportFinder" for f in sys.meta_path) == 1


def test_in_a_fresh_process() -> None:
    code = (
        "import sys\n"
        "try:\n"
        "    import gecko.plugins.storage.redis\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__mro__[1].__name__, exc.name)\n"
        "import importlib, gecko\n"
        "importlib.reload(gecko)\n"
        "print(sum(type(f).__name__ == '_LegacyImportFinder' for f in sys.meta_path),"
        " 'gecko.core.legacy_imports' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    first, second = result.stdout.splitlines()
    assert first == "GeckoError gecko.plugins.storage.redis"
    assert second == "1 True"  # one finder, even after a reload; the mapping loaded on the miss
    light = subprocess.run(
        [sys.executable, "-c", "import sys, gecko; print('gecko.core' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert light.stdout.strip() == "False"
