"""Gecko 0.x import paths (``gecko.plugins.*``, ``gecko.core.builder``) fail with their new home.

``gecko/__init__.py`` puts a finder last on ``sys.meta_path`` that hands those names
here, so it only ever sees names no installed distribution provides, and this module
is imported only when one is asked for. A 0.x *package* (``gecko.plugins``,
``gecko.plugins.storage``...) imports as an empty placeholder so that the error can
name the full path that was written (``import gecko.plugins.storage.redis`` imports
``gecko.plugins`` and ``gecko.plugins.storage`` first): every other 0.x module, and
every attribute of a placeholder, raises ``MovedError``, a ``ModuleNotFoundError``.
"""

from __future__ import annotations

from importlib.abc import Loader
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import NoReturn

from gecko.core.errors import GeckoError

MIGRATION_GUIDE = "docs/migration.md (https://gecko-ai.github.io/gecko/migration/)"
PREFIXES = ("gecko.plugins", "gecko.core.builder")
"""What the finder in ``gecko/__init__.py`` hands to ``find_spec`` (kept equal to its copy)."""

_MODELS = (
    'create_model("zhipu/glm-4-flash", temperature=...) or '
    'gecko.models.litellm.LiteLLMChatModel("zhipu/glm-4-flash") '
    "(pip install gecko-models-litellm)"
)
_RAG = (
    "gecko.rag: gecko.rag.IngestionPipeline, gecko.rag.RetrievalTool, load_documents, the "
    "readers and the splitters (pip install gecko-rag)"
)
_STORAGE = (
    'gecko.create_storage(url), with the backend\'s distribution installed: "sqlite://" '
    'gecko-storage-sqlite, "redis://" gecko-storage-redis, "chroma://", "lancedb://", '
    '"milvus://" gecko-rag'
)

# 0.x module or name -> its 1.0 home; a path not listed takes the entry of its longest prefix.
MOVED: dict[str, str] = {
    "gecko.core.builder": "gecko.AgentBuilder (defined in gecko.core.agent)",
    "gecko.plugins": (
        "gecko.plugins was split up: storage is gecko.create_storage plus a backend "
        "distribution, models and embedders are gecko-models-litellm (gecko.create_model, "
        "gecko.create_embedder), knowledge is gecko-rag (gecko.rag), guardrails are "
        "gecko.core.guardrails"
    ),
    "gecko.plugins.guardrails": "gecko.core.guardrails (gecko-core)",
    "gecko.plugins.storage": _STORAGE,
    "gecko.plugins.storage.factory": "gecko.create_storage (defined in gecko.core.factories)",
    "gecko.plugins.storage.sqlite": (
        'gecko.storage.sqlite, opened by create_storage("sqlite:///app.db") '
        "(pip install gecko-storage-sqlite)"
    ),
    "gecko.plugins.storage.redis": (
        'gecko.storage.redis, opened by create_storage("redis://localhost:6379/0") '
        "(pip install gecko-storage-redis)"
    ),
    "gecko.plugins.storage.chroma": (
        'gecko.rag.stores.chroma, opened by create_storage("chroma://./db") '
        '(pip install "gecko-rag[chroma]")'
    ),
    "gecko.plugins.storage.lancedb": (
        'gecko.rag.stores.lancedb, opened by create_storage("lancedb://./db") '
        '(pip install "gecko-rag[lancedb]")'
    ),
    "gecko.plugins.storage.milvus": (
        'gecko.rag.stores.milvus, opened by create_storage("milvus://./db.db") '
        '(pip install "gecko-rag[milvus]")'
    ),
    "gecko.plugins.models": _MODELS,
    "gecko.plugins.models.embedding": (
        "gecko.models.litellm.LiteLLMEmbedder, or "
        'create_embedder("openai/text-embedding-3-small", api_key=..., dimension=1536) '
        "(pip install gecko-models-litellm)"
    ),
    "gecko.plugins.models.embedding.ModelConfig": (
        'keyword options: create_embedder("openai/text-embedding-3-small", api_key=..., '
        "dimension=1536) (pip install gecko-models-litellm)"
    ),
    "gecko.plugins.knowledge": _RAG,
}
PACKAGES = frozenset(
    {
        "gecko.plugins",
        "gecko.plugins.storage",
        "gecko.plugins.models",
        "gecko.plugins.models.presets",
    }
)
"""0.x packages with 0.x submodules: placeholders, so the error names the submodule or attribute.

The price: ``import gecko.plugins.storage`` alone succeeds (using it raises), so a 0.x
package whose submodules never mattered (``gecko.plugins.knowledge``) is not listed.
"""


class MovedError(GeckoError, ModuleNotFoundError):
    """A Gecko 0.x import path: the message names its 1.0 home, the hint the migration guide."""


def new_home(path: str) -> str:
    """Where ``path`` (a 0.x module or ``module.name``) lives in Gecko 1.0."""
    prefix = path
    while prefix not in MOVED and "." in prefix:
        prefix = prefix.rpartition(".")[0]
    return MOVED.get(prefix, MOVED["gecko.plugins"])


def moved(path: str) -> NoReturn:
    """Raise the MovedError for ``path``."""
    error = MovedError(
        f"{path} is a Gecko 0.x import path; in Gecko 1.0: {new_home(path)}",
        hint=f"every 0.x import path and its new home: {MIGRATION_GUIDE}",
        path=path,
    )
    error.name = path
    raise error


def find_spec(fullname: str) -> ModuleSpec | None:
    """A placeholder's spec for a 0.x package; raises MovedError for any other 0.x module."""
    if not any(fullname == p or fullname.startswith(p + ".") for p in PREFIXES):
        return None
    if fullname in PACKAGES:
        return ModuleSpec(fullname, _PlaceholderLoader(), is_package=True)
    moved(fullname)


class _PlaceholderLoader(Loader):
    """Executes a 0.x package as an empty package whose every public attribute is moved."""

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        package = module.__name__

        def __getattr__(name: str) -> NoReturn:
            if name.startswith("__"):  # tools probe __file__, __wrapped__...: stay a module
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            moved(f"{package}.{name}")

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__path__ = []
