"""Click option helpers shared by the ``gecko`` command and plugins' subcommands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


class AliasedOption(click.Option):
    """An option whose names after the first are hidden aliases.

    ``click.option("--storage", "--store", "url", cls=AliasedOption)`` accepts both
    spellings, while help and error messages show only ``--storage``: an old name
    keeps working without being advertised.
    """

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with self._primary_name_only():
            return super().get_help_record(ctx)

    def get_error_hint(self, ctx: Any) -> str:
        with self._primary_name_only():
            return super().get_error_hint(ctx)

    @contextmanager
    def _primary_name_only(self) -> Iterator[None]:
        names = self.opts
        self.opts = names[:1]
        try:
            yield
        finally:
            self.opts = names
