"""``PromptRegistry``: named prompt templates, looked up by name."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from gecko.core.errors import PromptError, PromptNotFoundError
from gecko.core.prompts.template import PromptTemplate


class PromptRegistry:
    """Templates by name. Registering a name twice is an error unless ``replace=True``."""

    def __init__(self, templates: Mapping[str, str | PromptTemplate] | None = None) -> None:
        self._templates: dict[str, PromptTemplate] = {}
        self._lock = threading.Lock()
        for name, template in (templates or {}).items():
            self.register(name, template)

    def register(
        self, name: str, template: str | PromptTemplate, *, replace: bool = False
    ) -> PromptTemplate:
        """Add ``template`` under ``name`` (a string is compiled, named ``name``); return it."""
        if not isinstance(name, str) or not name.strip():
            raise PromptError(f"a prompt name must be a non-empty string, got {name!r}")
        if isinstance(template, str):
            template = PromptTemplate(template, name=name)
        elif not isinstance(template, PromptTemplate):
            raise PromptError(
                f"prompt {name!r} must be a string or a PromptTemplate, "
                f"got {type(template).__name__}",
                template=name,
            )
        with self._lock:
            if name in self._templates and not replace:
                raise PromptError(
                    f"a prompt named {name!r} is already registered",
                    hint="pick another name, or pass replace=True to overwrite it",
                    template=name,
                )
            self._templates[name] = template
        return template

    def get(self, name: str) -> PromptTemplate:
        """The template registered as ``name``; ``PromptNotFoundError`` lists the known names."""
        template = self._templates.get(name)
        if template is None:
            known = ", ".join(self.names()) or "none"
            raise PromptNotFoundError(
                f"no prompt named {name!r} is registered (known: {known})",
                hint="register it first: registry.register(name, template)",
                template=name,
            )
        return template

    def render(self, name: str, /, **values: Any) -> str:
        """Render the template registered as ``name``."""
        return self.get(name).render(**values)

    def unregister(self, name: str) -> bool:
        with self._lock:
            return self._templates.pop(name, None) is not None

    def names(self) -> list[str]:
        return sorted(self._templates)

    def __contains__(self, name: object) -> bool:
        return name in self._templates

    def __len__(self) -> int:
        return len(self._templates)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
