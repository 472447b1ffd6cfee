"""Cost of Gecko's OpenTelemetry metrics: off vs on without an SDK (no-op API) vs on with the SDK.

Rows:

- one agent run (user message -> the model calls one tool -> the model answers: two
  model calls and one tool call measured), Gecko's ScriptedModel in automatic mode so
  the model costs almost nothing and what is measured is the framework;
- one model-call measurement alone (``model_call(...)`` then ``succeeded(response)``:
  a duration and two token-usage records);
- one tool-call measurement alone (``record_tool_call``).

Columns: metrics off (``set_metrics_enabled(False)``, the baseline), on with no SDK
installed or configured (the OpenTelemetry API's proxy instruments: what every
application that does not export metrics pays), and on with the SDK (a
``MeterProvider`` with an ``InMemoryMetricReader``: aggregation happens on every
measurement, export is not timed). Modes alternate in rounds in one process so
machine noise hits them alike. Needs ``opentelemetry-sdk``.

    python benchmarks/metrics_bench.py [--runs N] [--records N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, ratio, table

OFF, NO_SDK, SDK = "metrics off", "on, no SDK (no-op API)", "on, SDK (in-memory reader)"
MODES = (OFF, NO_SDK, SDK)


def agent_run() -> Callable[[], Awaitable[object]]:
    from gecko import Agent
    from gecko.core.models.scripted import ScriptedModel

    async def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    model = ScriptedModel(name="openai/gpt-4o-mini")
    agent = Agent(model, tools=[add])

    async def run() -> object:
        output = await agent.run("What is 17 + 25?")
        if len(model.calls) > 1000:
            model.calls.clear()  # the scripted model records calls; keep memory flat
        return output

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4000, help="timed agent runs per mode")
    parser.add_argument("--records", type=int, default=200_000, help="timed measurements per mode")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    args = parser.parse_args()

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from gecko.core.message import Message
    from gecko.core.output import ModelResponse, TokenUsage
    from gecko.core.telemetry import metrics

    # Switching providers re-creates Gecko's instruments; the SDK warns that they exist already.
    logging.getLogger("opentelemetry.sdk.metrics").setLevel(logging.ERROR)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])

    def use(mode: str) -> None:
        metrics.set_metrics_enabled(mode != OFF)
        metrics.use_meter_provider(provider if mode == SDK else None)

    response = ModelResponse(
        message=Message.assistant("42"), usage=TokenUsage.of(120, 30), model="gpt-4o-mini"
    )

    def one_model_call() -> None:
        metrics.model_call("openai/gpt-4o-mini").succeeded(response)

    def one_tool_call() -> None:
        metrics.record_tool_call("add", 0.001)

    run = agent_run()
    runs: dict[str, list[float]] = {mode: [] for mode in MODES}
    records: dict[str, dict[str, list[float]]] = {
        name: {mode: [] for mode in MODES} for name in ("model", "tool")
    }

    async def measure_runs(mode: str, count: int) -> None:
        for _ in range(count):
            start = time.perf_counter_ns()
            await run()
            runs[mode].append((time.perf_counter_ns() - start) / 1000)

    def measure_records(mode: str, count: int) -> None:
        for name, record in (("model", one_model_call), ("tool", one_tool_call)):
            batch = 1000
            for _ in range(max(1, count // batch)):
                start = time.perf_counter_ns()
                for _ in range(batch):
                    record()
                records[name][mode].append((time.perf_counter_ns() - start) / batch)

    for mode in MODES:  # warm-up: imports, schema building, instrument creation
        use(mode)
        asyncio.run(measure_runs(mode, 200))
        measure_records(mode, 5000)
    for samples in (runs, *records.values()):
        for mode in MODES:
            samples[mode].clear()
    reader.get_metrics_data()  # drop what the warm-up recorded

    per_round_runs = max(1, args.runs // args.rounds)
    per_round_records = max(1000, args.records // args.rounds)
    for _ in range(args.rounds):
        for mode in MODES:
            use(mode)
            gc.collect()
            asyncio.run(measure_runs(mode, per_round_runs))
            measure_records(mode, per_round_records)

    data = reader.get_metrics_data()  # the SDK rows did record: count what it aggregated
    counted = {
        metric.name: sum(getattr(point, "count", 0) for point in metric.data.data_points)
        for rm in (data.resource_metrics if data else [])
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    expected = per_round_runs * args.rounds * 2  # two model calls per run
    if counted.get("gen_ai.client.operation.duration", 0) < expected:
        raise SystemExit(f"the SDK did not record every model call: {counted}")

    base = statistics.median(runs[OFF])
    rows: list[list[object]] = []
    for mode in MODES:
        median = statistics.median(runs[mode])
        rows.append(
            [
                f"agent run ({mode})",
                median,
                statistics.fmean(runs[mode]),
                median - base,
                ratio(median, base),
            ]
        )
    print(f"# metrics overhead, {machine()}")
    print(
        f"# {per_round_runs * args.rounds} agent runs and "
        f"{per_round_records * args.rounds} measurements per mode, in {args.rounds} rounds\n"
    )
    print(
        table(
            [
                "one agent run: 2 model calls + 1 tool call",
                "median µs",
                "mean µs",
                "+µs vs off",
                "vs off",
            ],
            rows,
        )
    )
    rows = []
    for name, label in (("model", "one model call measured"), ("tool", "one tool call measured")):
        for mode in MODES:
            rows.append([f"{label} ({mode})", statistics.median(records[name][mode]) / 1000])
    print()
    print(table(["measurement alone", "median µs"], rows))


if __name__ == "__main__":
    main()
