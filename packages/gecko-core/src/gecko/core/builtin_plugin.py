"""gecko-core's built-in plugin, registered through core's own entry point like any other.

Everything is registered as a ``"module:attr"`` string, so loading this plugin
imports nothing beyond the hook markers.
"""

from __future__ import annotations

from gecko.core.plugins.hookspecs import hookimpl
from gecko.core.plugins.registrars import (
    EmbedderRegistrar,
    GuardrailRegistrar,
    ModelRegistrar,
    StorageRegistrar,
    ToolRegistrar,
)


@hookimpl
def register_storage(register: StorageRegistrar) -> None:
    register("memory", "gecko.core.storage.open_memory:open_memory_store", kind=("kv", "vector"))


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("test", "gecko.core.models.scripted:create_test_model")


@hookimpl
def register_embedders(register: EmbedderRegistrar) -> None:
    register("hash", "gecko.core.embedders.hashing:create_hashing_embedder")


@hookimpl
def register_tools(register: ToolRegistrar) -> None:
    register("calculator", "gecko.core.tools.calculator:calculator")
    register("current_time", "gecko.core.tools.clock:current_time_tool")


@hookimpl
def register_guardrails(register: GuardrailRegistrar) -> None:
    register("max_length", "gecko.core.guardrails.length:MaxLengthGuardrail")
    register("prompt_injection", "gecko.core.guardrails.injection:PromptInjectionGuardrail")
    register("pii", "gecko.core.guardrails.pii:PIIMaskingGuardrail")
