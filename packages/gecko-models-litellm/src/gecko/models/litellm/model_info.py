"""What litellm's bundled model map knows about a model, read without importing litellm.

litellm ships its price and capability map as ``model_prices_and_context_window_backup.json``
(the map it uses itself with ``LITELLM_LOCAL_MODEL_COST_MAP``). Reading it directly
takes milliseconds, while importing litellm takes seconds, so ``supports_tools``
and an embedder's known dimension never block the event loop on that import.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

_FILE = "model_prices_and_context_window_backup.json"
_lock = threading.Lock()
_map: dict[str, Any] | None = None


def _model_map() -> dict[str, Any]:
    global _map
    if _map is None:
        with _lock:
            if _map is None:
                _map = _load()
    return _map


def _load() -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / _FILE
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
    # The file moved in some future litellm: ask litellm itself (imports it once).
    from gecko.models.litellm.runtime import litellm_module

    cost = getattr(litellm_module(), "model_cost", None)
    return dict(cost) if isinstance(cost, dict) else {}


def model_info(litellm_model: str) -> dict[str, Any] | None:
    """The map's entry for ``provider/model`` (as litellm is called), or None when unknown."""
    data = _model_map()
    route, _, name = litellm_model.partition("/")
    for key in (litellm_model, name):
        entry = data.get(key) if key else None
        if isinstance(entry, dict) and _provider_matches(
            str(entry.get("litellm_provider", "")), route
        ):
            return entry
    return None


def _provider_matches(entry_provider: str, route: str) -> bool:
    if not route or not entry_provider:
        return True
    base = route.removesuffix("_chat")
    return entry_provider == route or entry_provider.split("-", 1)[0] in (route, base)


def known_flag(litellm_model: str, flag: str) -> bool | None:
    """``True``/``False`` when the map states ``flag`` for the model, else None."""
    entry = model_info(litellm_model)
    value = entry.get(flag) if entry else None
    return value if isinstance(value, bool) else None


def known_dimension(litellm_model: str) -> int | None:
    entry = model_info(litellm_model)
    value = entry.get("output_vector_size") if entry else None
    return value if isinstance(value, int) and value > 0 else None
