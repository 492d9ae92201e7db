"""Smoke test of `python -m bench sender` at a toy size: the table's rows and the counts that
must agree (every queued row sent once, one Bot API call per send); never a figure of speed."""

from __future__ import annotations

import pytest

import bench.sender
from tests.test_bench_smoke import number, run_bench, table_rows


def test_sender(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench("sender", monkeypatch, capsys, bench.sender, EVENTS=30)
    rows = table_rows(
        out, "the sender alone on a stored outbox (the replies to 30 deliveries per mix)"
    )
    assert [r["mix"] for r in rows] == ["mix, 100 chats", "mix, 1 chat", "new members (private)"]
    for row in rows:
        queued = number(row["rows queued"])
        assert queued >= 30, row  # at least one reply per delivery
        assert number(row["rows sent"]) == queued, row  # the outbox emptied
        assert number(row["sends"]) == queued, row  # short replies: one call each, none twice
    assert number(rows[2]["rows queued"]) == 60, rows[2]  # a new member gets two replies
