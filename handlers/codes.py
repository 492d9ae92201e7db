"""The short codes people type and see for records: TB12 (directive), CV7 (task), SV3 (incident)."""

from __future__ import annotations


def directive_code(directive_id: int) -> str:
    return f"TB{directive_id}"


def task_code(task_id: int) -> str:
    return f"CV{task_id}"


def incident_code(incident_id: int) -> str:
    return f"SV{incident_id}"
