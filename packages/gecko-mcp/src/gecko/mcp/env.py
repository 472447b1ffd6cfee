"""The environment a stdio MCP server starts with: a minimal base plus what the caller passes.

A server is someone else's program; it must not inherit the parent's API keys by
default. The base is what a program needs to find executables, its home and
its locale: ``PATH``, ``HOME``, ``LANG``, ``LANGUAGE``, ``LC_*`` (and the
variables Windows needs to start a process at all).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from gecko.core.errors import ConfigurationError

BASE_VARIABLES = ("PATH", "HOME", "LANG", "LANGUAGE")
WINDOWS_VARIABLES = (
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "PATHEXT",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "APPDATA",
)


def base_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The inherited base: PATH, HOME and the locale variables that are set in ``environ``."""
    source = os.environ if environ is None else environ
    names = [*BASE_VARIABLES, *(WINDOWS_VARIABLES if sys.platform == "win32" else ())]
    env = {name: source[name] for name in names if name in source}
    env.update({name: value for name, value in source.items() if name.startswith("LC_")})
    return env


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The base environment with ``extra`` (the caller's variables) on top."""
    env = base_environment()
    for name, value in (extra or {}).items():
        if not isinstance(name, str) or not isinstance(value, str) or not name:
            raise ConfigurationError(
                f"environment variables must be non-empty string names with string values, "
                f"got {name!r}: {type(value).__name__}",
                hint="e.g. env={'TZ': 'UTC'}; pass secrets here explicitly, never by inheritance",
            )
        env[name] = value
    return env
