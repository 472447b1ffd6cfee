"""The JSON Schema of ``gecko.workflow/v1`` specs, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from gecko.compose.declarative.spec import API_VERSION, WorkflowDocument

SCHEMA_ID = "https://gecko-ai.github.io/gecko/schemas/gecko-workflow-v1.json"


def json_schema() -> dict[str, Any]:
    """The schema editors use to autocomplete and check specs (``gecko workflow schema``)."""
    schema = WorkflowDocument.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": f"Gecko workflow spec ({API_VERSION})",
    }
