"""Where the demo keeps its data, and which model and stores it uses.

Everything defaults to embedded, offline parts under ``.gecko/``; the standard
``GECKO_*`` environment variables (read and validated by gecko.core.config) switch them:
GECKO_MODEL (e.g. openai/gpt-4o-mini), GECKO_STORAGE (e.g. redis://localhost:6379/0),
GECKO_VECTOR_STORE (e.g. chroma://.gecko/chroma), GECKO_EMBEDDER.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gecko.core.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_QUESTION = "How does Gecko resume a workflow after a crash without running nodes twice?"


@dataclass(frozen=True)
class DemoConfig:
    question: str
    docs: Path
    data_dir: Path
    model: str | None
    storage: str
    vector_store: str
    embedder: str

    @property
    def offline(self) -> bool:
        return self.model is None


def load_config(question: str | None = None, data_dir: str = ".gecko") -> DemoConfig:
    settings = get_settings()
    data = Path(data_dir)
    return DemoConfig(
        question=question or DEFAULT_QUESTION,
        docs=ROOT / "docs",
        data_dir=data,
        model=settings.model,
        storage=settings.storage or f"sqlite:///{data / 'demo.db'}",
        vector_store=settings.vector_store or f"lancedb://{data / 'vectors'}",
        embedder=settings.embedder or "hash/384",
    )
