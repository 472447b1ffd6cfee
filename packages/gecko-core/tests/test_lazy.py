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


def test_importing_agent_builds_no_pydantic_schema_until_first_use() -> None:
    """``from gecko import Agent`` only defines the models; schemas are built on first use.

    Building a schema at import (a model instance as a field default, a model without
    ``defer_build``) costs tens of milliseconds, and pydantic's plugin loader then imports
    ``importlib.metadata`` (about 20 ms more); see docs/benchmarks.md.
    """
    code = (
        "import sys, pydantic\n"
        "from gecko import Agent\n"
        "built = sorted(\n"
        "    f'{m.__name__}.{name}' for m in list(sys.modules.values())\n"
        "    if getattr(m, '__name__', '').startswith('gecko.')\n"
        "    for name, v in vars(m).items()\n"
        "    if isinstance(v, type) and issubclass(v, pydantic.BaseModel)\n"
        "    and v.__module__ == m.__name__ and v.__pydantic_complete__\n"
        ")\n"
        "assert not built, built\n"
        "assert 'pydantic.plugin._loader' not in sys.modules\n"
        "from gecko import Message\n"
        "assert Message.user('hi').text == 'hi'  # the first use builds the schema\n"
        "assert Message.__pydantic_complete__\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
