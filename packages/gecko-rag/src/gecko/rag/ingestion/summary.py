"""What an ingestion reports: progress events while it runs, a summary at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gecko.rag.readers.loader import FileIssue

Stage = Literal["read", "embed", "done"]


@dataclass(frozen=True)
class ProgressEvent:
    """``stage`` "read": files read so far; "embed": chunks embedded and stored so far;
    "done": the summary is ready. ``total`` is known when the stage starts."""

    stage: Stage
    completed: int
    total: int
    source: str | None = None


@dataclass
class IngestionSummary:
    """The outcome of one ingestion.

    ``chunks`` is every chunk of the files read; of those, ``added`` were embedded and
    stored, ``unchanged`` were already stored (not embedded again). ``removed`` counts
    stale chunks deleted (from changed or emptied files). ``skipped`` and ``failed``
    list files with the reason; a failed file's stored chunks are left as they were.
    """

    files: int = 0
    chunks: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[FileIssue] = field(default_factory=list)
    failed: list[FileIssue] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        lines = [
            f"{self.files} file(s), {self.chunks} chunk(s): {self.added} added, "
            f"{self.unchanged} unchanged, {self.removed} removed "
            f"({len(self.skipped)} skipped, {len(self.failed)} failed) in {self.seconds:.2f} s"
        ]
        lines += [f"  skipped {issue.source}: {issue.reason}" for issue in self.skipped]
        lines += [f"  failed  {issue.source}: {issue.reason}" for issue in self.failed]
        return "\n".join(lines)
