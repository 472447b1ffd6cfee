"""Errors of declarative workflows: every problem says where it is and what was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gecko.compose.errors import ComposeError, WorkflowValidationError

_MAX_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a spec: ``file:line:column``, the document path and what was expected."""

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        place = self.file or "<spec>"
        if self.line is not None:
            place += f":{self.line}:{self.column or 1}"
        return place

    def __str__(self) -> str:
        at = f" at {self.path}" if self.path else ""
        return f"{self.where()}{at}: {self.message}"


class SpecError(WorkflowValidationError):
    """A workflow spec is invalid; ``problems`` lists each problem with its location."""

    heading = "invalid workflow spec"

    def __init__(self, problems: Sequence[Problem], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        shown = [str(p) for p in self.problems[:_MAX_SHOWN]]
        if len(self.problems) > _MAX_SHOWN:
            shown.append(f"... and {len(self.problems) - _MAX_SHOWN} more problems")
        count = len(self.problems)
        head = self.heading + (f" ({count} problems)" if count > 1 else "")
        super().__init__(
            head + ":\n  " + "\n  ".join(shown),
            hint=hint or "fix the spec; `gecko workflow schema` prints the JSON Schema it follows",
            problems=[str(p) for p in self.problems],
        )


class LifecycleRequiredError(SpecError):
    """The spec uses a feature whose execution needs the execution lifecycle (not built yet)."""

    heading = "this workflow spec is valid but cannot run yet"


class ExpressionEvaluationError(ComposeError):
    """A ``${...}`` expression failed at run time (a type error, a missing key...)."""

    def __init__(self, expression: str, where: str, detail: str) -> None:
        super().__init__(
            f"{where}: expression ${{{expression}}} failed: {detail}",
            hint="check the types of the values it reads (input, state, <node>.output)",
            expression=expression,
            where=where,
        )
        self.expression = expression
        self.where = where
