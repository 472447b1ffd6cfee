"""How a node is called: argument injection by signature, thread offload, retries, timeouts.

A function parameter named ``ctx`` or ``context``, or annotated ``WorkflowContext``,
receives the context; the first other parameter receives the node's input;
further parameters must have defaults. The plan is computed once, when the node
is added, so calling a node costs no introspection.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from gecko.compose.errors import NodeTimeoutError, WorkflowValidationError
from gecko.compose.nodes import step_options
from gecko.compose.targets import TargetKind, classify
from gecko.core.retry import RetryPolicy
from gecko.core.threads import run_sync
from gecko.core.validation import check_number

INPUT = 0
CONTEXT = 1
_CONTEXT_NAMES = frozenset({"ctx", "context"})


# How a function is called, precomputed: positional shapes, or keywords.
NO_ARGS, ONLY_INPUT, ONLY_CONTEXT, INPUT_CONTEXT, CONTEXT_INPUT, KEYWORDS = range(6)
_SHAPES = {
    (): NO_ARGS,
    (INPUT,): ONLY_INPUT,
    (CONTEXT,): ONLY_CONTEXT,
    (INPUT, CONTEXT): INPUT_CONTEXT,
    (CONTEXT, INPUT): CONTEXT_INPUT,
}


@dataclass(frozen=True, slots=True)
class CallPlan:
    """Which arguments a function takes: ``(parameter name, INPUT | CONTEXT)`` in order."""

    params: tuple[tuple[str, int], ...]
    shape: int
    needs_context: bool

    @classmethod
    def of(cls, params: tuple[tuple[str, int], ...], positional: bool) -> CallPlan:
        shape = _SHAPES.get(tuple(what for _, what in params), KEYWORDS) if positional else KEYWORDS
        return cls(params, shape, any(what == CONTEXT for _, what in params))

    def call(self, fn: Callable[..., Any], value: Any, ctx: Any) -> Any:
        shape = self.shape
        if shape == ONLY_INPUT:
            return fn(value)
        if shape == ONLY_CONTEXT:
            return fn(ctx)
        if shape == NO_ARGS:
            return fn()
        if shape == INPUT_CONTEXT:
            return fn(value, ctx)
        if shape == CONTEXT_INPUT:
            return fn(ctx, value)
        return fn(**{name: ctx if what == CONTEXT else value for name, what in self.params})


@dataclass(slots=True)
class NodeSpec:
    """A node as the engine runs it."""

    name: str
    target: Any
    kind: TargetKind
    plan: CallPlan | None  # functions only
    retry: RetryPolicy | None
    timeout: float | None
    needs_context: bool = False
    direct: bool = False  # an async function taking just the input: awaited with no indirection
    tags: tuple[str, ...] = ()
    kind_name: str = "function"  # as limits and metrics name it (function, agent, human, ...)
    catch: tuple[tuple[type[BaseException] | str, str], ...] = ()  # (error type, fallback node)
    compensate: str | None = None  # the node that undoes this one if the run fails later


_KIND_NAMES = {
    TargetKind.ASYNC_FN: "function",
    TargetKind.SYNC_FN: "function",
    TargetKind.INLINE_FN: "function",
    TargetKind.AGENT: "agent",
    TargetKind.TEAM: "team",
    TargetKind.WORKFLOW: "workflow",
}


def build_node(
    name: str,
    target: Any,
    *,
    retry: RetryPolicy | None,
    timeout: float | None,
    tags: tuple[str, ...] = (),
    kind_name: str | None = None,
    catch: Mapping[type[BaseException] | str, str] | None = None,
    compensate: str | None = None,
) -> NodeSpec:
    options = step_options(target)
    kind = classify(target, offload=options.offload if options else True, what=f"node {name!r}")
    plan = call_plan(target, f"node {name!r}") if kind <= TargetKind.INLINE_FN else None
    if retry is None and options is not None:
        retry = options.retry
    if timeout is None and options is not None:
        timeout = options.timeout
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise WorkflowValidationError(f"node {name!r}: retry must be a RetryPolicy, got {retry!r}")
    check_timeout(timeout, f"node {name!r}")
    needs_context = plan is not None and plan.needs_context
    direct = kind is TargetKind.ASYNC_FN and plan is not None and plan.shape == ONLY_INPUT
    for tag in tags:
        if not isinstance(tag, str) or not tag:
            raise WorkflowValidationError(f"node {name!r}: tags are non-empty strings, got {tag!r}")
    return NodeSpec(
        name, target, kind, plan, retry, timeout, needs_context, direct,
        tuple(tags), kind_name or _KIND_NAMES[kind], check_catch(name, catch),
        check_compensate(name, compensate),
    )  # fmt: skip


def error_name(kind: type[BaseException] | str) -> str:
    return kind if isinstance(kind, str) else kind.__name__


def catches(kind: type[BaseException] | str, error: BaseException) -> bool:
    """Whether a ``catch`` key matches ``error`` (by class, or by a class name in its MRO)."""
    if isinstance(kind, str):
        return any(cls.__name__ == kind for cls in type(error).__mro__)
    return isinstance(error, kind)


def check_compensate(name: str, compensate: str | None) -> str | None:
    if compensate is not None and (not isinstance(compensate, str) or not compensate):
        raise WorkflowValidationError(
            f"node {name!r}: compensate names the node that undoes it, got {compensate!r}"
        )
    if compensate == name:
        raise WorkflowValidationError(f"node {name!r} cannot compensate itself")
    return compensate


def check_catch(
    name: str, catch: Mapping[type[BaseException] | str, str] | None
) -> tuple[tuple[type[BaseException] | str, str], ...]:
    """``{ErrorType: "fallback node"}`` as ordered pairs (the first matching type wins).

    A key may also be a class *name* (``"TimeoutError"``, for specs that cannot import
    classes): it matches an error whose class or a base class has that name.
    """
    if catch is None:
        return ()
    if not isinstance(catch, Mapping):
        raise WorkflowValidationError(
            f"node {name!r}: catch must map error types to fallback nodes, got {catch!r}",
            hint='e.g. catch={TimeoutError: "use_cache", Exception: "apologise"}',
        )
    pairs = []
    for error, target in catch.items():
        named = isinstance(error, str) and error.isidentifier()
        if not named and not (isinstance(error, type) and issubclass(error, Exception)):
            raise WorkflowValidationError(
                f"node {name!r}: catch keys are exception classes (or class names), got {error!r}"
            )
        if not isinstance(target, str) or not target:
            raise WorkflowValidationError(
                f"node {name!r}: the fallback for {error_name(error)} must be a node name, "
                f"got {target!r}"
            )
        pairs.append((error, target))
    return tuple(pairs)


def check_timeout(timeout: float | None, what: str) -> None:
    check_number(
        f"{what}: timeout",
        timeout,
        above=0,
        finite=False,
        unit="seconds",
        allow_none=True,
        error=WorkflowValidationError,
    )


def call_plan(fn: Callable[..., Any], what: str) -> CallPlan:
    """Inspect ``fn`` once: which parameters get the input and which the context."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: give them the input
        return CallPlan.of((("", INPUT),), positional=True)
    hints = _type_hints(fn)
    params: list[tuple[str, int]] = []
    positional = True
    skipped = False
    input_taken = False
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(param.name, param.annotation)
        if param.name in _CONTEXT_NAMES or _is_context_annotation(annotation):
            role = CONTEXT
        elif not input_taken and param.kind is not param.KEYWORD_ONLY:
            role = INPUT
            input_taken = True
        elif param.default is not param.empty:
            skipped = True
            continue
        else:
            raise WorkflowValidationError(
                f"{what}: cannot fill parameter {param.name!r} of {_describe(fn)}",
                hint="a node or condition takes the previous output and/or a `ctx` "
                "(WorkflowContext) parameter; give other parameters defaults",
            )
        if param.kind is param.KEYWORD_ONLY or skipped:
            positional = False
        if param.kind is param.POSITIONAL_ONLY and not positional:
            raise WorkflowValidationError(f"{what}: unsupported signature of {_describe(fn)}")
        params.append((param.name, role))
    return CallPlan.of(tuple(params), positional)


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable string annotations: fall back to the raw ones
        return {}


def _is_context_annotation(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return "WorkflowContext" in annotation
    from gecko.compose.context import WorkflowContext

    if annotation is WorkflowContext:
        return True
    return any(arg is WorkflowContext for arg in typing.get_args(annotation))


def _describe(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


async def call_function(spec: NodeSpec, value: Any, ctx: Any) -> Any:
    """One call of a function node (async awaited, sync in a worker thread or inline)."""
    plan = spec.plan
    assert plan is not None
    kind = spec.kind
    if kind is TargetKind.ASYNC_FN:
        return await plan.call(spec.target, value, ctx)
    if kind is TargetKind.INLINE_FN:
        result = plan.call(spec.target, value, ctx)
    else:
        result = await run_sync(plan.call, spec.target, value, ctx)
    if inspect.isawaitable(result):
        result = await result
    return result


async def with_timeout(call: Awaitable[Any], timeout: float, node: str) -> Any:
    """Await ``call`` for at most ``timeout`` seconds, else raise NodeTimeoutError."""
    with anyio.move_on_after(timeout) as scope:
        return await call
    if scope.cancelled_caught:
        raise NodeTimeoutError(
            f"node {node!r} did not finish within {timeout} s",
            hint="raise the node's timeout (add_node(..., timeout=...)) or make it faster",
            node=node,
            timeout=timeout,
        )
    raise AssertionError("unreachable")  # pragma: no cover
