"""The workspace lock (deps/constraints.txt): complete, applied to every environment, installed."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "deps" / "constraints.txt"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)(?:\s*;\s*(.+))?$")


def locked() -> dict[str, str]:
    """The pins that apply to this interpreter: name -> version."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            name, version, marker = match.groups()
            if marker is None or Marker(marker).evaluate():
                pins[canonicalize_name(name)] = version
    return pins


def workspace() -> dict[str, dict]:
    projects = {}
    for path in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        projects[canonicalize_name(project["name"])] = project
    return projects


def applicable(requirement: str) -> Requirement | None:
    parsed = Requirement(requirement)
    if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
        return None
    return parsed


def test_every_dependency_of_every_package_is_pinned() -> None:
    pins, members = locked(), workspace()
    missing = []
    for name, project in members.items():
        requirements = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            requirements.extend(extra)
        for text in requirements:
            requirement = applicable(text)
            if requirement is None:
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency not in members and dependency not in pins:
                missing.append(f"{name}: {text}")
    assert not missing, f"not in the lock (run `hatch run deps:lock`): {missing}"


def test_every_pin_satisfies_the_packages_own_ranges() -> None:
    pins, members = locked(), workspace()
    for name, project in members.items():
        for text in project.get("dependencies", []):
            requirement = applicable(text)
            if requirement is None or canonicalize_name(requirement.name) in members:
                continue
            version = pins[canonicalize_name(requirement.name)]
            assert requirement.specifier.contains(version, prereleases=True), (name, text, version)


def test_every_hatch_environment_installs_under_the_lock() -> None:
    config = tomllib.loads((ROOT / "hatch.toml").read_text(encoding="utf-8"))["envs"]

    def constraint(name: str) -> str | None:
        env = config[name]
        found = env.get("env-vars", {}).get("UV_CONSTRAINT")
        if found is None and not env.get("detached") and name != "default":
            return constraint(env.get("template", "default"))
        return found

    for name in config:
        assert constraint(name) == "{root}/deps/constraints.txt", name
        assert config[name].get("installer", config["default"]["installer"]) == "uv", name


def test_this_environment_has_exactly_the_locked_versions() -> None:
    pins = locked()
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }
    members = workspace()
    drift = {
        name: (installed[name], version)
        for name, version in pins.items()
        if name in installed and name not in members and installed[name] != version
    }
    assert not drift, f"installed != locked: {drift}; run `hatch env prune` and try again"
    # The suite's own runner and the heavy backends come from the lock, not from chance.
    for name in ("pytest", "litellm", "chromadb", "lancedb", "pymilvus", "sqlmodel"):
        assert installed[name] == pins[name]


def _lock_script():  # deps/lock.py is a script, not a package module
    import importlib.util

    spec = importlib.util.spec_from_file_location("gecko_deps_lock", ROOT / "deps" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_drift_report_reads_the_provider_tuple_as_the_plugin_does() -> None:
    from gecko.models.litellm.providers import LITELLM_PROVIDERS

    assert _lock_script().gecko_providers() == set(LITELLM_PROVIDERS)


def test_the_lock_report_names_what_moved(capsys) -> None:
    script = _lock_script()
    before = script.read_pins("a==1.0\nb==2.0 ; python_full_version < '3.11'\nb==2.1\nc==3\n")
    after = script.read_pins("a==1.1\nb==2.0 ; python_full_version < '3.11'\nb==2.1\nd==4\n")
    assert before["b"] == {"2.0 ; python_full_version < '3.11'", "2.1"}
    script.report_versions(before, after)
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "lock: 1 moved, 1 added, 1 removed",
        "  a: 1.0 -> 1.1",
        "  + d 4",
        "  - c 3",
    ]


def test_workspace_packages_are_never_pinned() -> None:
    names = {canonicalize_name(name) for name in _lock_script().workspace_packages()}
    assert {"gecko-core", "gecko-compose", "gecko-rag"} <= names
    assert not names & set(locked())
