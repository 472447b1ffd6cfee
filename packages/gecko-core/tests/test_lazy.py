"""Lazy package exports."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_names_import_on_first_use_and_are_cached() -> None:
    code = (
        "import sys, gecko.compose as c\n"
        "assert 'gecko.compose.team' not in sys.modules\n"
        "team = c.Team\n"
        "assert 'gecko.compose.team' in sys.modules and vars(c)['Team'] is team\n"
        "assert 'Workflow' in dir(c)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_unknown_name_is_an_attribute_error() -> None:
    import gecko.core.agent

    with pytest.raises(AttributeError, match=r"gecko\.core\.agent"):
        gecko.core.agent.NoSuchThing
