"""Gecko: an async-first framework for AI agents and agent workflows.

``gecko`` is a namespace shared by several distributions (``gecko-core``,
``gecko-compose``, ``gecko-storage-*``, ``gecko-rag``, ``gecko-models-litellm``).
Only gecko-core ships this file. The stable top-level API is resolved lazily so
that ``import gecko`` stays fast and a name whose distribution is missing fails
with an ImportError naming the package to install.
"""

from __future__ import annotations

from sys import meta_path as _meta_path
from typing import TYPE_CHECKING, Any

# The canonical pkgutil idiom, spelled so that static tools (griffe, for the API reference)
# recognise the namespace and merge every distribution's portion.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

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


class _LegacyImportFinder:
    """Gecko 0.x paths (``gecko.plugins.*``, ``gecko.core.builder``) fail naming their new home.

    Last on ``sys.meta_path``, so it sees only names that nothing installed provides;
    the mapping lives in ``gecko.core.legacy_imports``, imported only on such a miss.
    """

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(("gecko.plugins", "gecko.core.builder")):
            return None
        from gecko.core.legacy_imports import find_spec

        return find_spec(fullname)


if not any(type(finder).__name__ == "_LegacyImportFinder" for finder in _meta_path):  # reloads
    _meta_path.append(_LegacyImportFinder())


if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    # ``X as X`` marks an explicit re-export, so ``from gecko import Agent`` passes
    # ``mypy --strict`` (no implicit re-export) in applications and plugins.
    from gecko.compose import CheckpointStrategy as CheckpointStrategy
    from gecko.compose import ExecutionStrategy as ExecutionStrategy
    from gecko.compose import MemberResult as MemberResult
    from gecko.compose import Next as Next
    from gecko.compose import Team as Team
    from gecko.compose import Workflow as Workflow
    from gecko.compose import WorkflowContext as WorkflowContext
    from gecko.compose import step as step
    from gecko.core.agent import Agent as Agent
    from gecko.core.agent import AgentBuilder as AgentBuilder
    from gecko.core.errors import GeckoError as GeckoError
    from gecko.core.factories import create_embedder as create_embedder
    from gecko.core.factories import create_model as create_model
    from gecko.core.factories import create_storage as create_storage
    from gecko.core.factories import create_tool as create_tool
    from gecko.core.memory import SummaryTokenMemory as SummaryTokenMemory
    from gecko.core.memory import TokenMemory as TokenMemory
    from gecko.core.message import Message as Message
    from gecko.core.message import Role as Role
    from gecko.core.output import AgentOutput as AgentOutput
    from gecko.core.output import TokenUsage as TokenUsage
    from gecko.core.plugins.hookspecs import hookimpl as hookimpl
    from gecko.core.structure import StructureEngine as StructureEngine

    __version__: str
