"""Prompt templates, a registry of named templates, and system-prompt composition."""

from __future__ import annotations

from gecko.core.prompts.compose import compose_prompt, describe_tool
from gecko.core.prompts.registry import PromptRegistry
from gecko.core.prompts.template import PromptTemplate

__all__ = ["PromptRegistry", "PromptTemplate", "compose_prompt", "describe_tool"]
