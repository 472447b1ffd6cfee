"""Tools from plain typed Python functions.

    @tool
    async def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
        '''Current weather for a city.

        Args:
            city: City name, e.g. "Paris".
            unit: Temperature unit.
        '''

The JSON schema comes from the type hints (through pydantic) and the parameter
descriptions from the docstring (Google, Sphinx or NumPy style). Arguments are
validated against it before the function runs, so the function receives
well-typed values and a wrong call becomes a ``ToolArgumentError`` naming the
argument. Sync functions run in a worker thread unless ``run_in_thread=False``.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
import warnings
from collections.abc import Callable
from typing import Any, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from gecko.core.errors import ConfigurationError, ToolArgumentError
from gecko.core.protocols import Tool
from gecko.core.threads import run_sync
from gecko.core.tools.docstrings import parse_docstring
from gecko.core.tools.schema import describe_validation_errors, parameters_schema
from gecko.core.validation import check_number

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What chat-model APIs accept as a tool name."""

_RESERVED = frozenset(dir(BaseModel))


def check_tool_name(name: str) -> str:
    """Return ``name`` if chat-model APIs accept it as a tool name, else raise ConfigurationError."""
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise ConfigurationError(
            f"invalid tool name {name!r}",
            hint="tool names are 1-64 characters of letters, digits, '_' and '-'; "
            "pass name=... to choose one",
            name=name,
        )
    return name


class FunctionTool:
    """A ``Tool`` wrapping a typed function (sync or async).

    Calling the tool object directly still calls the function, so decorating a
    function with ``@tool`` does not change how Python code uses it.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        run_in_thread: bool = True,
    ) -> None:
        if not callable(fn):
            raise ConfigurationError(f"a tool needs a callable, got {type(fn).__name__}")
        check_number(
            "tool timeout", timeout, above=0, finite=False, unit="seconds", allow_none=True
        )
        target = _unwrap(fn)
        self.fn = fn
        self.name = check_tool_name(name or str(getattr(target, "__name__", "")))
        docs = parse_docstring(inspect.getdoc(target))
        self.description = description if description is not None else docs.summary
        self.timeout = timeout
        self.run_in_thread = run_in_thread
        self.is_async = _is_async(fn)
        self._arguments, self._fields, self._positional = _arguments_model(
            fn, self.name, docs.params
        )
        self.parameters: dict[str, Any] = parameters_schema(self._arguments)
        functools.update_wrapper(self, target, updated=())

    def __repr__(self) -> str:
        return f"FunctionTool(name={self.name!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    @property
    def arguments_model(self) -> type[BaseModel]:
        """The pydantic model the arguments are validated with."""
        return self._arguments

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validated, converted keyword arguments; ToolArgumentError names each bad argument."""
        try:
            validated = self._arguments.model_validate(arguments)
        except ValidationError as exc:
            problems = describe_validation_errors(exc)
            raise ToolArgumentError(
                f"invalid arguments for tool {self.name!r}: " + "; ".join(problems),
                hint=f"the tool takes: {_signature_hint(self.parameters)}",
                tool=self.name,
                errors=problems,
            ) from None
        values = validated.__dict__
        return {param: values[field] for field, param in self._fields}

    async def execute(self, arguments: dict[str, Any]) -> Any:
        kwargs = self.validate(arguments)
        args = [kwargs.pop(name) for name in self._positional] if self._positional else ()
        if self.is_async:
            return await self.fn(*args, **kwargs)
        if self.run_in_thread:
            # A timeout returns at once; the thread finishes on its own.
            return await run_sync(functools.partial(self.fn, *args, **kwargs))
        return self.fn(*args, **kwargs)


@overload
def tool(fn: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    run_in_thread: bool = True,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    run_in_thread: bool = True,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Turn a typed function into a tool: ``@tool`` or ``@tool(name=..., timeout=...)``."""

    def wrap(function: Callable[..., Any]) -> FunctionTool:
        return FunctionTool(
            function,
            name=name,
            description=description,
            timeout=timeout,
            run_in_thread=run_in_thread,
        )

    return wrap(fn) if fn is not None else wrap


def as_tool(obj: Tool | Callable[..., Any]) -> Tool:
    """``obj`` if it already is a Tool, else a FunctionTool wrapping the function."""
    if isinstance(obj, FunctionTool):
        return obj
    if all(hasattr(obj, attr) for attr in ("name", "description", "parameters", "execute")):
        return typing.cast(Tool, obj)
    if callable(obj):
        return FunctionTool(obj)
    raise ConfigurationError(
        f"cannot use a {type(obj).__name__} as a tool",
        hint="pass a typed function or an object with name, description, parameters "
        "and async execute(arguments)",
    )


# --- building the arguments model ------------------------------------------------------


def _unwrap(fn: Callable[..., Any]) -> Any:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def _is_async(fn: Callable[..., Any]) -> bool:
    target = _unwrap(fn)
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - a callable object with async __call__
    )


def _type_hints(fn: Callable[..., Any], tool_name: str) -> dict[str, Any]:
    target: Any = _unwrap(fn)
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = type(target).__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:
        raise ConfigurationError(
            f"cannot resolve the type hints of tool {tool_name!r}: {exc}",
            hint="make every annotation importable at module level (not only under TYPE_CHECKING)",
            tool=tool_name,
        ) from exc


def _arguments_model(
    fn: Callable[..., Any], tool_name: str, descriptions: dict[str, str]
) -> tuple[type[BaseModel], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The pydantic model of ``fn``'s parameters, its (field, parameter) pairs, positional-only names."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the signature of tool {tool_name!r}: {exc}") from exc
    hints = _type_hints(fn, tool_name)
    definitions: dict[str, Any] = {}
    fields: list[tuple[str, str]] = []
    positional: list[str] = []
    for index, param in enumerate(signature.parameters.values()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigurationError(
                f"tool {tool_name!r} has a *{param.name} / **{param.name} parameter",
                hint="tools need named, typed parameters so a JSON schema can describe them",
                tool=tool_name,
            )
        if param.kind is param.POSITIONAL_ONLY:
            positional.append(param.name)
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        # Field names that clash with pydantic internals get a safe name and the real one as alias.
        safe = (
            param.name.startswith("_") or param.name in _RESERVED or param.name.startswith("model_")
        )
        field_name = f"arg_{index}" if safe else param.name
        extra: dict[str, Any] = {}  # unset keys keep what an Annotated[..., Field()] says
        if descriptions.get(param.name):
            extra["description"] = descriptions[param.name]
        if safe:
            extra["alias"] = param.name
        definitions[field_name] = (annotation, Field(default, **extra))
        fields.append((field_name, param.name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = create_model(  # type: ignore[call-overload]
            f"{tool_name}_arguments",
            __config__=ConfigDict(extra="forbid", protected_namespaces=(), populate_by_name=False),
            **definitions,
        )
    return model, tuple(fields), tuple(positional)


def _signature_hint(schema: dict[str, Any]) -> str:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    if not properties:
        return "no arguments"
    parts = []
    for name, prop in properties.items():
        kind = prop.get("type", "any") if isinstance(prop, dict) else "any"
        parts.append(f"{name}: {kind}" + ("" if name in required else " (optional)"))
    return ", ".join(parts)
