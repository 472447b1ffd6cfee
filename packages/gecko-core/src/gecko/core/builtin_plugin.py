"""gecko-core's built-in plugin, registered through core's own entry point like any other.

Everything is registered as a ``"module:attr"`` string, so loading this plugin
imports nothing beyond the hook markers.
"""

from __future__ import annotations

from typing import Any

from gecko.core.plugins.hookspecs import hookimpl


@hookimpl
def register_storage(register: Any) -> None:
    register("memory", "gecko.core.storage.open_memory:open_memory_store", kind=("kv", "vector"))


@hookimpl
def register_models(register: Any) -> None:
    register("test", "gecko.core.models.scripted:create_test_model")


@hookimpl
def register_embedders(register: Any) -> None:
    register("hash", "gecko.core.embedders.hashing:create_hashing_embedder")


@hookimpl
def register_tools(register: Any) -> None:
    register("calculator", "gecko.core.tools.calculator:calculator")
    register("current_time", "gecko.core.tools.clock:current_time_tool")


@hookimpl
def register_guardrails(register: Any) -> None:
    register("max_length", "gecko.core.guardrails.length:MaxLengthGuardrail")
    register("prompt_injection", "gecko.core.guardrails.injection:PromptInjectionGuardrail")
    register("pii", "gecko.core.guardrails.pii:PIIMaskingGuardrail")
