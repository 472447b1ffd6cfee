"""Importing litellm: lazily, once, offline, quietly.

litellm takes seconds to import, so nothing imports it until a model is used;
async callers import it in a worker thread so the event loop keeps running.
``LITELLM_LOCAL_MODEL_COST_MAP`` is set (unless the user set it) before the
import so litellm reads its bundled price list instead of fetching one. The only
process-wide litellm settings touched are its debug banner and telemetry, once,
at import; per-model settings (keys, base URLs, timeouts, retries) are passed per call.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib import import_module
from types import ModuleType

import anyio

from gecko.core.errors import MissingDependencyError

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_litellm: ModuleType | None = None

# Modules litellm imports lazily inside the first call (the OpenAI client's resources,
# the MCP handler every call with tools= goes through, the bundled tiktoken encodings).
# Importing them with litellm, in the worker thread, keeps that first call from
# blocking the event loop for a second or more.
_WARM_MODULES = (
    "openai.resources",
    "litellm.llms.openai.openai",
    "litellm.responses.mcp.chat_completions_handler",
    "litellm.litellm_core_utils.default_encoding",
    "litellm._service_logger",
)


def litellm_module() -> ModuleType:
    """The configured litellm module, imported on first use (blocks while importing)."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            try:
                import litellm
            except ImportError as exc:
                raise MissingDependencyError(
                    f"litellm cannot be imported: {exc}",
                    hint="pip install gecko-models-litellm (it depends on litellm[mcp])",
                ) from exc
            litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
            if hasattr(litellm, "telemetry"):
                litellm.telemetry = False
            for name in _WARM_MODULES:
                try:
                    import_module(name)
                except ImportError as exc:  # moved in another litellm release: only slower
                    logger.debug("litellm warm-up: cannot import %s: %s", name, exc)
            _litellm = litellm
    return _litellm


async def load_litellm() -> ModuleType:
    """The litellm module; the first import runs in a worker thread."""
    if _litellm is not None:
        return _litellm
    return await anyio.to_thread.run_sync(litellm_module)


def is_loaded() -> bool:
    return _litellm is not None
