"""The agent engine: the ReAct loop, its per-run context, budgets, hooks and loop guard."""

from __future__ import annotations

from gecko.core.engine.budget import Budget
from gecko.core.engine.context import RunContext
from gecko.core.engine.hooks import Hook
from gecko.core.engine.loop_guard import LoopGuard
from gecko.core.engine.react import ReActEngine

__all__ = ["Budget", "Hook", "LoopGuard", "ReActEngine", "RunContext"]
