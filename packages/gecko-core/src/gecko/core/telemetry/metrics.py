"""OpenTelemetry metrics for model calls, tool calls and workflows (API only: no-op without an SDK).

Only the OpenTelemetry *API* is used: until the application installs
``opentelemetry-sdk`` and sets a meter provider, every instrument is a no-op
(a fraction of a microsecond per measurement). Model and tool metrics follow
the OpenTelemetry GenAI semantic conventions:

| instrument | type, unit | attributes |
|---|---|---|
| ``gen_ai.client.token.usage`` | histogram, ``{token}`` | ``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.token.type`` (``input`` / ``output``) |
| ``gen_ai.client.operation.duration`` | histogram, ``s`` | the same without ``gen_ai.token.type``; ``error.type`` when the call failed |
| ``gen_ai.execute_tool.duration`` | histogram, ``s`` | ``gen_ai.tool.name``, ``gen_ai.tool.type``; ``error.type`` when the tool failed |

Workflow metrics (no semantic convention exists; the engine records them through
:class:`WorkflowMetrics`) carry ``gecko.workflow.name``:

| instrument | type, unit | extra attributes |
|---|---|---|
| ``gecko.workflow.runs.started`` | counter, ``{run}`` | |
| ``gecko.workflow.runs.ended`` | counter, ``{run}`` | ``gecko.run.status`` |
| ``gecko.workflow.runs.active`` | up-down counter, ``{run}`` | |
| ``gecko.workflow.node.duration`` | histogram, ``s`` | ``gecko.node.kind``, optional ``gecko.workflow.node``, ``error.type`` on failure |
| ``gecko.workflow.limit.wait`` | histogram, ``s`` | ``gecko.limit.key`` (``agent``, ``tag:gpu``, ``model:openai/gpt-4o``) |
| ``gecko.workflow.interrupts.pending`` | up-down counter, ``{interrupt}`` | |

Instruments are created on the first measurement, not at import. This module
imports ``opentelemetry``; ``import gecko`` and plugin modules never import it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics as otel_metrics
from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider, UpDownCounter

from gecko.core.output import ModelResponse
from gecko.core.telemetry.spans import (
    ERROR_TYPE,
    INSTRUMENTATION_NAME,
    OPERATION_NAME,
    PROVIDER_NAME,
    REQUEST_MODEL,
    RESPONSE_MODEL,
    SCHEMA_URL,
    TOOL_NAME,
    TOOL_TYPE,
    WORKFLOW_NAME,
    WORKFLOW_NODE,
    _qualified_name,
    _version,
    split_model_id,
)

# Instrument names.
TOKEN_USAGE = "gen_ai.client.token.usage"  # noqa: S105 (a metric name)
OPERATION_DURATION = "gen_ai.client.operation.duration"
TOOL_DURATION = "gen_ai.execute_tool.duration"
RUNS_STARTED = "gecko.workflow.runs.started"
RUNS_ENDED = "gecko.workflow.runs.ended"
RUNS_ACTIVE = "gecko.workflow.runs.active"
NODE_DURATION = "gecko.workflow.node.duration"
LIMIT_WAIT = "gecko.workflow.limit.wait"
INTERRUPTS_PENDING = "gecko.workflow.interrupts.pending"

# Attribute names (beside the span attributes of gecko.core.telemetry.spans).
TOKEN_TYPE = "gen_ai.token.type"  # noqa: S105 (an attribute name)
RUN_STATUS = "gecko.run.status"
NODE_KIND = "gecko.node.kind"
LIMIT_KEY = "gecko.limit.key"

# Bucket boundaries: the semantic conventions' for GenAI; seconds to an hour for workflows.
TOKEN_BUCKETS = tuple(float(4**n) for n in range(14))  # 1, 4, 16, ... 67108864
DURATION_BUCKETS = tuple(round(0.01 * 2**n, 2) for n in range(14))  # 0.01 ... 81.92 s
WORKFLOW_BUCKETS = (
    *(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    *(30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0),
)


@dataclass(frozen=True, slots=True)
class _Instruments:
    token_usage: Histogram
    operation_duration: Histogram
    tool_duration: Histogram
    runs_started: Counter
    runs_ended: Counter
    runs_active: UpDownCounter
    node_duration: Histogram
    limit_wait: Histogram
    interrupts_pending: UpDownCounter


_lock = threading.Lock()
_provider: MeterProvider | None = None
_instruments: _Instruments | None = None
_enabled = True


def use_meter_provider(provider: MeterProvider | None) -> None:
    """Send Gecko's measurements to ``provider`` instead of the global one (``None`` = global).

    The global provider (``opentelemetry.metrics.set_meter_provider``) can be set
    only once per process; this routes Gecko's metrics elsewhere at any time.
    """
    global _provider, _instruments
    with _lock:
        _provider = provider
        _instruments = None


def set_metrics_enabled(enabled: bool) -> None:
    """Turn Gecko's metrics off (``False``: no measurement is taken at all) or on again."""
    global _enabled
    _enabled = bool(enabled)


def metrics_enabled() -> bool:
    """Whether Gecko takes measurements (True unless ``set_metrics_enabled(False)``)."""
    return _enabled


def recording() -> bool:
    """Whether measurements go anywhere: metrics on, and a real meter provider (an SDK's).

    Hot paths (a workflow's per-node durations) check this once and skip building
    attributes when only the API's no-op provider is there.
    """
    if not _enabled:
        return False
    provider = _provider if _provider is not None else otel_metrics.get_meter_provider()
    return not type(provider).__module__.startswith("opentelemetry.metrics")


def get_meter() -> Meter:
    """Gecko's meter: from the provider given to ``use_meter_provider``, else the global one.

    The global meter is a proxy, so an SDK configured after this call is still used.
    """
    return otel_metrics.get_meter(
        INSTRUMENTATION_NAME, _version(), meter_provider=_provider, schema_url=SCHEMA_URL
    )


def _get() -> _Instruments:
    global _instruments
    instruments = _instruments
    if instruments is None:
        with _lock:
            if _instruments is None:
                _instruments = _create(get_meter())
            instruments = _instruments
    return instruments


def _create(meter: Meter) -> _Instruments:
    def histogram(name: str, unit: str, description: str, buckets: tuple[float, ...]) -> Histogram:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )

    return _Instruments(
        token_usage=histogram(
            TOKEN_USAGE, "{token}", "Number of input and output tokens used.", TOKEN_BUCKETS
        ),
        operation_duration=histogram(
            OPERATION_DURATION, "s", "GenAI operation duration.", DURATION_BUCKETS
        ),
        tool_duration=histogram(
            TOOL_DURATION, "s", "The duration of a single tool execution.", DURATION_BUCKETS
        ),
        runs_started=meter.create_counter(
            RUNS_STARTED, unit="{run}", description="Workflow runs started."
        ),
        runs_ended=meter.create_counter(
            RUNS_ENDED, unit="{run}", description="Workflow runs ended, by final status."
        ),
        runs_active=meter.create_up_down_counter(
            RUNS_ACTIVE, unit="{run}", description="Workflow runs executing in this process."
        ),
        node_duration=histogram(
            NODE_DURATION, "s", "Duration of one workflow node call.", WORKFLOW_BUCKETS
        ),
        limit_wait=histogram(
            LIMIT_WAIT, "s", "Time a node waited for a `limits` slot.", WORKFLOW_BUCKETS
        ),
        interrupts_pending=meter.create_up_down_counter(
            INTERRUPTS_PENDING,
            unit="{interrupt}",
            description="Human-in-the-loop interrupts waiting for an answer.",
        ),
    )


def error_type(error: BaseException) -> str:
    """The ``error.type`` of ``error``: its qualified class name (a bare name for builtins)."""
    return _qualified_name(type(error))


# --- model calls ---------------------------------------------------------------------------


class ModelCallMetrics:
    """Measures one model call from its creation: call ``succeeded`` or ``failed`` once."""

    __slots__ = ("_attributes", "_done", "_started")

    def __init__(self, attributes: dict[str, Any]) -> None:
        self._attributes = attributes
        self._started = time.perf_counter()
        self._done = False

    def succeeded(self, response: ModelResponse | None = None) -> None:
        """Record the call's duration and, when the response reports it, its token usage."""
        if self._done:
            return
        self._done = True
        duration = time.perf_counter() - self._started
        instruments = _get()
        attributes = self._attributes  # this call's own dict, not recorded yet
        if response is not None and response.model:
            attributes[RESPONSE_MODEL] = response.model
        instruments.operation_duration.record(duration, attributes)
        if response is None:
            return
        usage = response.usage
        if usage.prompt_tokens or usage.completion_tokens:  # zero means "not reported"
            histogram = instruments.token_usage
            histogram.record(usage.prompt_tokens, {**attributes, TOKEN_TYPE: "input"})
            histogram.record(usage.completion_tokens, {**attributes, TOKEN_TYPE: "output"})

    def failed(self, error: BaseException) -> None:
        """Record the call's duration with ``error.type``."""
        if self._done:
            return
        self._done = True
        duration = time.perf_counter() - self._started
        attributes = {**self._attributes, ERROR_TYPE: error_type(error)}
        _get().operation_duration.record(duration, attributes)


class _NoModelCall(ModelCallMetrics):
    __slots__ = ()

    def succeeded(self, response: ModelResponse | None = None) -> None:
        return

    def failed(self, error: BaseException) -> None:
        return


_NO_MODEL_CALL = _NoModelCall({})


def model_call(
    model: str, *, provider: str | None = None, operation: str = "chat"
) -> ModelCallMetrics:
    """Start measuring a call of ``model`` (``provider/model`` ids are split, as for spans)."""
    if not _enabled:
        return _NO_MODEL_CALL
    model_name = model
    if provider is None:
        provider, model_name = split_model_id(model)
    attributes: dict[str, Any] = {OPERATION_NAME: operation, REQUEST_MODEL: model_name}
    if provider:
        attributes[PROVIDER_NAME] = provider
    return ModelCallMetrics(attributes)


# --- tool calls ----------------------------------------------------------------------------


def record_tool_call(
    tool: str,
    duration: float,
    *,
    error: BaseException | None = None,
    tool_type: str = "function",
) -> None:
    """Record one tool execution of ``duration`` seconds (``error``: why it failed)."""
    if not _enabled:
        return
    attributes: dict[str, Any] = {TOOL_NAME: tool, TOOL_TYPE: tool_type}
    if error is not None:
        attributes[ERROR_TYPE] = error_type(error)
    _get().tool_duration.record(duration, attributes)


# --- workflows -----------------------------------------------------------------------------


class WorkflowMetrics:
    """The workflow instruments, bound to one workflow's name (``gecko.workflow.name``).

    The engine calls ``run_started`` / ``run_ended(status)`` once per run,
    ``run_active(+1 / -1)`` when this process starts and stops executing a run,
    ``node_duration`` (or ``time_node``) per node call, ``limit_wait`` per wait for
    a ``limits`` slot and ``interrupts_pending(+n / -n)`` as interrupts are raised
    and answered. Each call is a no-op when metrics are off or no SDK is set.
    """

    __slots__ = ("_base", "workflow")

    def __init__(self, workflow: str) -> None:
        self.workflow = workflow
        self._base: dict[str, Any] = {WORKFLOW_NAME: workflow}

    def __repr__(self) -> str:
        return f"WorkflowMetrics({self.workflow!r})"

    def run_started(self) -> None:
        """Count one run started (``gecko.workflow.runs.started``)."""
        if _enabled:
            _get().runs_started.add(1, self._base)

    def run_ended(self, status: str) -> None:
        """Count one run ended as ``status`` (``completed``, ``failed``, ``cancelled``...)."""
        if _enabled:
            _get().runs_ended.add(1, {**self._base, RUN_STATUS: status})

    def run_active(self, delta: int) -> None:
        """Change the number of runs executing in this process (``+1`` / ``-1``)."""
        if _enabled:
            _get().runs_active.add(delta, self._base)

    def node_duration(
        self,
        kind: str,
        seconds: float,
        *,
        node: str | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Record one node call of ``kind`` (``function``, ``agent``, ``team``, ``tool``...)."""
        if not _enabled:
            return
        attributes = {**self._base, NODE_KIND: kind}
        if node is not None:
            attributes[WORKFLOW_NODE] = node
        if error is not None:
            attributes[ERROR_TYPE] = error_type(error)
        _get().node_duration.record(seconds, attributes)

    @contextmanager
    def time_node(self, kind: str, *, node: str | None = None) -> Iterator[None]:
        """Time the block as one node call; an exception is recorded as ``error.type``.

        Cancellation (and other ``BaseException``) records nothing and propagates.
        """
        started = time.perf_counter()
        try:
            yield
        except Exception as exc:
            self.node_duration(kind, time.perf_counter() - started, node=node, error=exc)
            raise
        self.node_duration(kind, time.perf_counter() - started, node=node)

    def limit_wait(self, key: str, seconds: float) -> None:
        """Record ``seconds`` waited for a slot of limit ``key`` (``agent``, ``tag:gpu``...)."""
        if _enabled:
            _get().limit_wait.record(seconds, {**self._base, LIMIT_KEY: key})

    def interrupts_pending(self, delta: int) -> None:
        """Change the number of pending interrupts (``+n`` raised, ``-n`` answered)."""
        if _enabled:
            _get().interrupts_pending.add(delta, self._base)


def workflow_metrics(workflow: str) -> WorkflowMetrics:
    """The instruments of workflow ``workflow`` (cheap: create one per workflow or per run)."""
    return WorkflowMetrics(workflow)
