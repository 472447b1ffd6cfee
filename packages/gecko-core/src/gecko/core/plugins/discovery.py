"""Finding ``gecko`` entry points quickly.

``importlib.metadata`` costs about 20 ms to import (it pulls in the email parser,
zipfile, csv...) before it reads anything, which is a large part of a CLI's start
budget. Installed distributions are ``*.dist-info`` directories on ``sys.path``
holding an ``entry_points.txt``; reading those files directly finds the same
entry points, in the same order (first distribution on ``sys.path`` wins). When
``sys.path`` holds something else (a zip file, an egg), discovery falls back to
``importlib.metadata``, which knows every format.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class FoundEntryPoint:
    """One entry point of a group, with the distribution that declares it."""

    name: str
    value: str
    distribution: str | None
    version: str | None

    def load(self) -> Any:
        """Import ``module`` or ``module:attr`` (as ``importlib.metadata.EntryPoint.load``)."""
        module_name, _, attr = self.value.partition(":")
        obj: Any = import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def entry_points(group: str) -> list[FoundEntryPoint]:
    """The entry points of ``group`` declared by installed distributions."""
    found = _scan(group)
    return found if found is not None else _from_importlib_metadata(group)


def _scan(group: str) -> list[FoundEntryPoint] | None:
    results: list[FoundEntryPoint] = []
    seen_dists: set[str] = set()
    for entry in sys.path:
        directory = entry or "."
        if not os.path.isdir(directory):
            if os.path.exists(directory):
                return None  # a zip or egg file: let importlib.metadata handle it
            continue
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            if name.endswith(".egg-info") and not os.path.isdir(os.path.join(directory, name)):
                return None  # an old-style single-file egg-info
            key = _normalize(name.rsplit(".", 1)[0].split("-", 1)[0])
            if key in seen_dists:
                continue  # shadowed by a distribution earlier on sys.path
            seen_dists.add(key)
            path = os.path.join(directory, name, "entry_points.txt")
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            points = _parse_group(text, group)
            if points:
                dist_name, version = _metadata(os.path.join(directory, name))
                results.extend(
                    FoundEntryPoint(ep_name, value, dist_name, version) for ep_name, value in points
                )
    return results


def _parse_group(text: str, group: str) -> list[tuple[str, str]]:
    """``name = value`` lines of the ``[group]`` section of an entry_points.txt (an INI file)."""
    points: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
            continue
        if inside and "=" in line:
            name, _, value = line.partition("=")
            points.append((name.strip(), value.strip()))
    return points


def _metadata(dist_info: str) -> tuple[str | None, str | None]:
    """Name and Version from the distribution's METADATA (or PKG-INFO) headers."""
    name = version = None
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(dist_info, filename), encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        break  # end of the headers
                    if line.startswith("Name:"):
                        name = line[5:].strip()
                    elif line.startswith("Version:"):
                        version = line[8:].strip()
        except OSError:
            continue
        break
    return name, version


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _from_importlib_metadata(group: str) -> list[FoundEntryPoint]:
    from importlib.metadata import entry_points as metadata_entry_points

    found = []
    for ep in metadata_entry_points(group=group):
        dist = getattr(ep, "dist", None)
        found.append(
            FoundEntryPoint(
                ep.name,
                ep.value,
                dist.name if dist is not None else None,
                dist.version if dist is not None else None,
            )
        )
    return found
