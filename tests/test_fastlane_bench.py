"""bench/fastlane.py runs at toy sizes and prints its three rows (no speed is asserted)."""

from __future__ import annotations

import pytest

import bench.fastlane


async def test_fastlane_bench_prints_a_row_per_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.fastlane, "ROUNDS", 1)
    monkeypatch.setattr(bench.fastlane, "CALLS", 3)
    out = await bench.fastlane.main()
    rows = [line for line in out.splitlines() if line.startswith("| ") and "statement" not in line]
    assert [row.split("|")[1].strip() for row in rows] == [
        name for name, *_ in bench.fastlane.CASES
    ]
    assert all(len([c for c in row.split("|")[2:-1] if c.strip()]) == 3 for row in rows)
