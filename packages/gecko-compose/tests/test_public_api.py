"""The public names, their top-level aliases, and a light import."""

from __future__ import annotations

import subprocess
import sys

import gecko
import gecko.compose as compose


def test_public_names_resolve_from_gecko_and_gecko_compose() -> None:
    for name in (
        "Workflow",
        "Team",
        "step",
        "Next",
        "ExecutionStrategy",
        "CheckpointStrategy",
        "MemberResult",
        "WorkflowContext",
    ):
        assert getattr(gecko, name) is getattr(compose, name)
    assert set(compose.__all__) <= set(dir(compose))
    for name in compose.__all__:
        assert getattr(compose, name) is not None


def test_importing_the_package_and_its_plugin_is_light() -> None:
    code = (
        "import sys, gecko.compose, gecko.compose.plugin\n"
        "heavy = ('anyio', 'pydantic', 'opentelemetry', 'gecko.compose.workflow', 'gecko.compose.team')\n"
        "print(sorted({m.split('.')[0] if not m.startswith('gecko') else m for m in sys.modules if m.startswith(heavy)}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
