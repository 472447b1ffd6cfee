"""Optional backends: import them on first use, or say which extra installs them."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from gecko.core.errors import MissingDependencyError


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise MissingDependencyError naming ``gecko-rag[extra]``.

    A module that is installed but fails to import for another reason (a broken
    native library, an incompatible version) is reported with its own error too,
    because reinstalling the extra is the fix in both cases.
    """
    try:
        return import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the {module!r} package, which is not installed or failed to import: {exc}",
            hint=f"pip install 'gecko-rag[{extra}]'",
            module=module,
            extra=extra,
        ) from exc
