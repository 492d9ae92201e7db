"""The short codes people type and see: TB12 (directive), CV7 (task), SV3 (incident), YC4
(a member's request)."""

from __future__ import annotations


def directive_code(directive_id: int) -> str:
    return f"TB{directive_id}"


def task_code(task_id: int) -> str:
    return f"CV{task_id}"


def incident_code(incident_id: int) -> str:
    return f"SV{incident_id}"


def request_code(request_id: int) -> str:
    return f"YC{request_id}"
