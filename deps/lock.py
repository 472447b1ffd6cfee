"""Refresh the workspace lock (deps/constraints.txt) and report upstream drift.

    hatch run deps:lock       re-resolve after editing a pyproject.toml or requirements.in,
                              keeping every pin that still fits
    hatch run deps:upgrade    move every pin to the newest release that fits, then report
                              what moved and what changed upstream (litellm's providers)

The lock is resolved for every platform and Python >= 3.10 (``uv pip compile --universal``)
from ``deps/requirements.in``. Every hatch environment installs under it through
``UV_CONSTRAINT`` (hatch.toml). After the lock moves, the project's hatch environments are
pruned, so the next ``hatch test`` installs exactly what the lock says.

Drift is reported, never raised: a provider litellm adds stays reachable through Gecko's
``litellm/`` escape hatch until ``providers.py`` lists it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUT = ROOT / "deps" / "requirements.in"
LOCK = ROOT / "deps" / "constraints.txt"
PROVIDERS = ROOT / "packages/gecko-models-litellm/src/gecko/models/litellm/providers.py"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;]+)(?:\s*;\s*(.+))?$")


def workspace_packages() -> list[str]:
    """The distributions under packages/ (installed editable by hatch, so never pinned)."""
    names = []
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        match = re.search(r'^name\s*=\s*"([^"]+)"', pyproject.read_text(), re.M)
        if match:
            names.append(match.group(1))
    return names


def compile_lock(*, upgrade: bool) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        sys.exit("uv is needed to resolve the lock: python3 -m pip install uv")
    command = [uv, "pip", "compile", str(INPUT.relative_to(ROOT)), "--universal"]
    command += ["--python-version", "3.10", "--no-header", "--quiet"]
    command += ["--output-file", str(LOCK.relative_to(ROOT))]
    for name in workspace_packages():
        command += ["--no-emit-package", name]
    if upgrade:
        command.append("--upgrade")
    # The lock must not constrain its own resolution.
    env = {k: v for k, v in os.environ.items() if k != "UV_CONSTRAINT"}
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def read_pins(text: str) -> dict[str, set[str]]:
    """``{package: {"1.2.3", "1.2.4 ; python_full_version >= '3.11'"}}`` from a lock's text."""
    pins: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            name, version, marker = match.groups()
            entry = version if marker is None else f"{version} ; {marker}"
            pins.setdefault(name.lower(), set()).add(entry)
    return pins


def report_versions(before: dict[str, set[str]], after: dict[str, set[str]]) -> None:
    moved = sorted(n for n in before.keys() & after.keys() if before[n] != after[n])
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    print(f"lock: {len(moved)} moved, {len(added)} added, {len(removed)} removed")
    for name in moved:
        print(f"  {name}: {', '.join(sorted(before[name]))} -> {', '.join(sorted(after[name]))}")
    for name in added:
        print(f"  + {name} {', '.join(sorted(after[name]))}")
    for name in removed:
        print(f"  - {name} {', '.join(sorted(before[name]))}")


def gecko_providers() -> set[str]:
    """The provider tuple in providers.py, read as text (it is a literal tuple of strings)."""
    source = PROVIDERS.read_text(encoding="utf-8")
    body = source.split("LITELLM_PROVIDERS: tuple[str, ...] = (", 1)[1].split(")", 1)[0]
    return set(re.findall(r'"([^"]+)"', body))


def litellm_providers(pins: dict[str, set[str]]) -> tuple[str, set[str]] | None:
    """The locked litellm's ``provider_list``, read in a throwaway environment uv caches."""
    [version, *_] = sorted(pins.get("litellm", {""}))
    version = version.split(" ;")[0]
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not version or uv is None:
        return None
    code = (
        "import json, litellm; "
        "print(json.dumps([str(getattr(p, 'value', p)) for p in litellm.provider_list]))"
    )
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "UV_CONSTRAINT": str(LOCK)}
    command = [uv, "run", "--quiet", "--no-project", "--with", f"litellm=={version}"]
    command += ["--", "python", "-c", code]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"litellm {version}: could not read its providers:\n{result.stderr[-2000:]}")
        return None
    return version, set(json.loads(result.stdout.strip().splitlines()[-1]))


def report_providers(pins: dict[str, set[str]]) -> None:
    found = litellm_providers(pins)
    if found is None:
        return
    version, installed = found
    ours = gecko_providers()
    added, removed = sorted(installed - ours), sorted(ours - installed)
    if not added and not removed:
        print(f"litellm {version}: providers.py lists exactly its {len(installed)} providers")
        return
    print(
        f"litellm {version} provider drift (reachable meanwhile as 'litellm/<provider>/<model>'):"
    )
    print(f"  added upstream:   {', '.join(added) or '-'}")
    print(f"  removed upstream: {', '.join(removed) or '-'}")
    print(f"  update LITELLM_PROVIDERS in {PROVIDERS.relative_to(ROOT)}")


def prune_environments() -> None:
    """Remove this project's hatch environments (but the running one) so they reinstall."""
    hatch = [sys.executable, "-m", "hatch"] if shutil.which("hatch") is None else ["hatch"]
    active = os.environ.get("HATCH_ENV_ACTIVE", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HATCH_ENV")}
    shown = subprocess.run(
        [*hatch, "env", "show", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    names = sorted(json.loads(shown.stdout)) if shown.returncode == 0 else []
    for name in names:
        if name != active:
            subprocess.run([*hatch, "env", "remove", name], cwd=ROOT, env=env, check=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="move every pin to the newest")
    parser.add_argument("--no-prune", action="store_true", help="keep the hatch environments")
    args = parser.parse_args(argv)
    before = read_pins(LOCK.read_text(encoding="utf-8")) if LOCK.exists() else {}
    compile_lock(upgrade=args.upgrade)
    after = read_pins(LOCK.read_text(encoding="utf-8"))
    report_versions(before, after)
    report_providers(after)
    if before != after and not args.no_prune:
        prune_environments()
        print("environments pruned: run `python3 -m hatch test` to check the new lock")


if __name__ == "__main__":
    main()
