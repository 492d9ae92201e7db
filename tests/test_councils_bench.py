"""`python -m bench councils` at toy sizes: it runs and its row counts agree (no speed asserted)."""

from __future__ import annotations

import pytest

import bench.councils
from tests.test_bench_smoke import run_bench, table_rows


def test_councils_bench(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_bench(
        "councils",
        monkeypatch,
        capsys,
        bench.councils,
        COUNCILS=3,
        INCIDENTS_PER_COUNCIL=20,
        MESSAGES_PER_COUNCIL=100,
        ROUNDS=3,
    )
    rows = table_rows(out, "council scoping: 3 parks, 300 messages")
    # 20 incidents a park, 3 of 4 open: the 50 newest of everyone's, 15 of one park's.
    assert [(r["query"], r["rows unscoped / scoped"]) for r in rows] == [
        ("open incidents (50 newest)", "45 / 15"),
        ("messages of the week", "100 / 100"),
    ]
