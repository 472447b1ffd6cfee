"""Gecko: an async-first framework for AI agents and agent workflows.

``gecko`` is a namespace shared by several distributions (``gecko-core``,
``gecko-compose``, ``gecko-storage-*``, ``gecko-rag``, ``gecko-models-litellm``).
Only gecko-core ships this file. The stable top-level API is resolved lazily so
that ``import gecko`` stays fast and a name whose distribution is missing fails
with an ImportError naming the package to install.
"""

from __future__ import annotations

from pkgutil import extend_path
from typing import TYPE_CHECKING, Any

__path__ = extend_path(__path__, __name__)

# name -> (module, distribution that provides it)
_LAZY: dict[str, tuple[str, str]] = {
    # agent runtime (gecko-core)
    "Agent": ("gecko.core.agent", "gecko-core"),
    "AgentBuilder": ("gecko.core.agent", "gecko-core"),
    "Message": ("gecko.core.message", "gecko-core"),
    "Role": ("gecko.core.message", "gecko-core"),
    "AgentOutput": ("gecko.core.output", "gecko-core"),
    "TokenUsage": ("gecko.core.output", "gecko-core"),
    "TokenMemory": ("gecko.core.memory", "gecko-core"),
    "SummaryTokenMemory": ("gecko.core.memory", "gecko-core"),
    "StructureEngine": ("gecko.core.structure", "gecko-core"),
    # plugin system and factories (gecko-core)
    "hookimpl": ("gecko.core.plugins.hookspecs", "gecko-core"),
    "create_storage": ("gecko.core.factories", "gecko-core"),
    "create_model": ("gecko.core.factories", "gecko-core"),
    "create_embedder": ("gecko.core.factories", "gecko-core"),
    "create_tool": ("gecko.core.factories", "gecko-core"),
    "GeckoError": ("gecko.core.errors", "gecko-core"),
    # workflows and teams (gecko-compose)
    "Workflow": ("gecko.compose", "gecko-compose"),
    "step": ("gecko.compose", "gecko-compose"),
    "Next": ("gecko.compose", "gecko-compose"),
    "Team": ("gecko.compose", "gecko-compose"),
    "ExecutionStrategy": ("gecko.compose", "gecko-compose"),
    "CheckpointStrategy": ("gecko.compose", "gecko-compose"),
    "MemberResult": ("gecko.compose", "gecko-compose"),
    "WorkflowContext": ("gecko.compose", "gecko-compose"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("gecko-core")
    elif name in _LAZY:
        module_name, distribution = _LAZY[name]
        from importlib import import_module

        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if (
                exc.name is not None
                and module_name.startswith(exc.name)
                and not _installed(distribution)
            ):
                raise ImportError(
                    f"gecko.{name} is provided by the '{distribution}' distribution, "
                    f"which is not installed. Install it with: pip install {distribution}",
                    name=name,
                ) from exc
            raise
        value = getattr(module, name)
    else:
        raise AttributeError(f"module 'gecko' has no attribute {name!r}")
    globals()[name] = value
    return value


def _installed(distribution: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from gecko.compose import (
        CheckpointStrategy,
        ExecutionStrategy,
        MemberResult,
        Next,
        Team,
        Workflow,
        WorkflowContext,
        step,
    )
    from gecko.core.agent import Agent, AgentBuilder
    from gecko.core.errors import GeckoError
    from gecko.core.factories import create_embedder, create_model, create_storage, create_tool
    from gecko.core.memory import SummaryTokenMemory, TokenMemory
    from gecko.core.message import Message, Role
    from gecko.core.output import AgentOutput, TokenUsage
    from gecko.core.plugins.hookspecs import hookimpl
    from gecko.core.structure import StructureEngine

    __version__: str
