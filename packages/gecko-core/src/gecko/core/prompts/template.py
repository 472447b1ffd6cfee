"""``PromptTemplate``: ``{variable}`` placeholders, validated when built and when rendered.

Placeholders are plain identifiers only (``{name}``, ``{名字}``), optionally with a
conversion and a format spec (``{score:.2f}``, ``{value!r}``). Attribute and
index access (``{user.__class__}``, ``{items[0]}``), positional fields (``{}``,
``{0}``) and nested specs are rejected when the template is built, so a
template can never reach into the objects it is given. Values are inserted
verbatim: braces inside a value are never interpreted. ``{{`` and ``}}`` write
literal braces.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gecko.core.errors import PromptError

_CONVERSIONS: dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}
_Part = tuple[str, str | None, str, str | None]  # literal, variable, format spec, conversion


class PromptTemplate:
    """A text template with named ``{variable}`` placeholders."""

    __slots__ = ("_bound", "_parts", "name", "template", "variables")

    def __init__(self, template: str, *, name: str | None = None) -> None:
        if not isinstance(template, str):
            raise PromptError(
                f"a prompt template must be a string, got {type(template).__name__}",
                template=name,
            )
        self.template = template
        self.name = name
        self._parts = _parse(template, name)
        self._bound: dict[str, Any] = {}
        self.variables: frozenset[str] = frozenset(
            variable for _, variable, _, _ in self._parts if variable is not None
        )

    @classmethod
    def from_file(
        cls, path: str | Path, *, name: str | None = None, encoding: str = "utf-8"
    ) -> PromptTemplate:
        """Read a template from a text file (named after the file unless ``name`` is given)."""
        file = Path(path)
        return cls(file.read_text(encoding=encoding), name=name or file.stem)

    def __repr__(self) -> str:
        return f"PromptTemplate(name={self.name!r}, variables={sorted(self.variables)})"

    @property
    def required(self) -> frozenset[str]:
        """The variables that still need a value (those not bound by ``partial``)."""
        return frozenset(self.variables - self._bound.keys())

    def partial(self, **values: Any) -> PromptTemplate:
        """A copy with some variables bound; ``render`` then needs only the others."""
        self._check_known(values)
        copy = PromptTemplate.__new__(PromptTemplate)
        copy.template, copy.name, copy._parts = self.template, self.name, self._parts
        copy.variables = self.variables
        copy._bound = {**self._bound, **values}
        return copy

    def render(self, **values: Any) -> str:
        """The text with every placeholder replaced.

        A missing value, or a value for a variable the template does not have,
        raises ``PromptError`` naming the template and the variable.
        """
        self._check_known(values)
        merged = {**self._bound, **values}
        for variable in sorted(self.variables):
            if variable not in merged:
                raise PromptError(
                    f"template {self._label} needs a value for variable {variable!r}",
                    hint=f"pass it: render({variable}=...)",
                    template=self.name,
                    variable=variable,
                )
        pieces: list[str] = []
        for literal, name, spec, conversion in self._parts:
            pieces.append(literal)
            if name is None:
                continue
            variable = name
            value = merged[variable]
            if conversion is not None:
                value = _CONVERSIONS[conversion](value)
            try:
                pieces.append(format(value, spec))
            except (TypeError, ValueError) as exc:
                raise PromptError(
                    f"template {self._label}: variable {variable!r} cannot be formatted "
                    f"with format spec {spec!r}: {exc}",
                    template=self.name,
                    variable=variable,
                ) from exc
        return "".join(pieces)

    def _check_known(self, values: Mapping[str, Any]) -> None:
        for variable in sorted(values):
            if variable not in self.variables:
                known = ", ".join(sorted(self.variables)) or "none"
                raise PromptError(
                    f"template {self._label} has no variable {variable!r} (its variables: {known})",
                    hint="check the spelling, or add the placeholder to the template",
                    template=self.name,
                    variable=variable,
                )

    @property
    def _label(self) -> str:
        return repr(self.name) if self.name else "<unnamed>"


def _parse(template: str, name: str | None) -> list[_Part]:
    label = repr(name) if name else "<unnamed>"
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise PromptError(
            f"template {label} is malformed: {exc}",
            hint="write literal braces as {{ and }}",
            template=name,
        ) from exc
    parts: list[_Part] = []
    for literal, field, spec, conversion in parsed:
        if field is None:
            parts.append((literal, None, "", None))
            continue
        if not field.isidentifier():
            what = "positional placeholder" if field == "" or field.isdigit() else "placeholder"
            raise PromptError(
                f"template {label}: {what} {{{field}}} is not allowed; placeholders are plain "
                "variable names (no attribute or index access)",
                hint="name the value, e.g. {question}, and pass it to render(); "
                "write literal braces as {{ and }}",
                template=name,
                variable=field,
            )
        if spec and ("{" in spec or "}" in spec):
            raise PromptError(
                f"template {label}: placeholder {{{field}}} has a nested placeholder in its "
                f"format spec {spec!r}, which is not allowed",
                template=name,
                variable=field,
            )
        if conversion is not None and conversion not in _CONVERSIONS:  # pragma: no cover
            raise PromptError(f"template {label}: unknown conversion !{conversion}")
        parts.append((literal, field, spec or "", conversion))
    return parts
