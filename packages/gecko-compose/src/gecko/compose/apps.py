"""The application's objects named on the command line: ``--app module:attr``.

The module is imported from the current directory first, as ``python -m`` does, so
``gecko workflow ... --app myapp:flow`` finds ``./myapp.py``.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def import_app(app: str) -> Any:
    """The object ``module:attr`` names (a bare ``module`` names the module itself)."""
    from gecko.core.plugins.registry import import_object

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return import_object(app if ":" in app else f"{app}:", context="--app")
