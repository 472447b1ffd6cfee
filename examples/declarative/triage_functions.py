"""The Python function the support-triage spec names as `triage_functions:open_ticket`."""

from __future__ import annotations


def open_ticket(user: str, text: str) -> dict[str, str]:
    return {"ticket": f"T-{len(text)}", "user": user}
