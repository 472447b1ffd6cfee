"""Progress bars for ingestion, on stderr: ``pipeline.run(paths, on_progress=ProgressBar())``.

Used by ``gecko rag ingest`` and by applications that want the same display; library code
itself only reports progress through the ``on_progress`` callback.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import click
from typing_extensions import Self


class ProgressBar:
    """One progress bar per ingestion stage (reading files, embedding chunks).

    A callable for ``IngestionPipeline(on_progress=...)``; use it as a context manager (or
    call ``close``) so the last bar is finished even when ingestion fails.
    """

    LABELS = {"read": "Reading  ", "embed": "Embedding"}

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._stage: str | None = None
        self._shown = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __call__(self, event: Any) -> None:
        if not self.enabled or event.stage == "done":
            self.close()
            return
        if event.stage != self._stage:
            self.close()
            if event.total == 0:
                return
            self._stage = event.stage
            self._bar = click.progressbar(
                length=event.total, label=self.LABELS.get(event.stage, event.stage), file=sys.stderr
            )
            self._bar.__enter__()
            self._shown = 0
        if self._bar is not None and event.completed > self._shown:
            self._bar.update(event.completed - self._shown)
            self._shown = event.completed

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        self._stage = None
