# Smoke test of bench/: each benchmark runs end to end at toy sizes, through `python -m bench`,
# and prints its table, so the benchmarks cannot rot unnoticed. Figures of speed are never
# asserted; the table's rows are, and the counts in them that must agree.

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import Any

import pytest

import bench.baseline
import bench.common
import bench.digest
import bench.e2e
import bench.ingest
import bench.memory
import bench.nudges
import bench.parse
import bench.processor
import bench.understanding
from bench.__main__ import main as bench_main


def run_bench(
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    module: ModuleType,
    **sizes: Any,
) -> str:
    """Shrink `module`'s size constants, run `python -m bench <name>` in-process, return stdout."""
    for constant, value in sizes.items():
        monkeypatch.setattr(module, constant, value)  # raises if the constant is gone
    monkeypatch.setattr(sys, "argv", ["python -m bench", name])  # as the command line has it
    assert bench_main([name]) == 0
    out = capsys.readouterr().out
    assert "(skipped:" not in out, out
    return out


def _cells(line: str) -> list[str]:
    assert line.startswith("|") and line.endswith("|"), line
    return [c.strip() for c in line[1:-1].split("|")]


def table_rows(out: str, title: str) -> list[dict[str, str]]:
    """The rows of the markdown table under `### title`, each as header -> cell."""
    lines = out.splitlines()
    assert f"### {title}" in lines, f"no table titled {title!r} in:\n{out}"
    at = lines.index(f"### {title}")
    assert lines[at + 1] == ""
    header, rule, *rest = lines[at + 2 :]
    assert re.fullmatch(r"\|(-+\|)+", rule), rule
    columns = _cells(header)
    rows = []
    for line in rest:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(columns, _cells(line), strict=True)))
    return rows


def number(cell: str) -> int:
    """A count as the tables print it (`1,234`)."""
    assert re.fullmatch(r"\d[\d,]*", cell), cell
    return int(cell.replace(",", ""))


@pytest.mark.slow
def test_intake(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bound = 200
    out = run_bench(
        "intake",
        monkeypatch,
        capsys,
        bench.ingest,
        SECONDS=0.3,
        CONNECTIONS=4,
        MAX_REQUESTS=bound,
    )
    rows = table_rows(out, "intake (POST /webhook/zalo-bot)")
    on_postgres = (
        ["real app on PostgreSQL, workers off", "real app on PostgreSQL, workers on"]
        if bench.common.postgres_url()
        else []
    )
    assert [r["handler"] for r in rows] == [
        "bare aiohttp, JSON only",
        "naive: session+commit per request, stock aiosqlite",
        "naive, on the app's engine (SQLite on the loop)",
        "real app, workers off",
        "real app, workers on (production)",
        *on_postgres,
    ]
    for row in rows:
        answers = number(row["200 answers"])
        assert 0 < answers <= bound, row  # the bound reached the load generator's process
        if row["handler"].startswith("bare"):
            assert row["rows stored"] == "-", row
        else:
            assert number(row["rows stored"]) == answers, row  # nothing acknowledged and lost


def test_processor(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench("processor", monkeypatch, capsys, bench.processor, EVENTS=30, WARM_UP=5)
    assert "each mix after an unmeasured run of 5 other deliveries" in out
    rows = table_rows(out, "the processor alone on a stored backlog (30 deliveries per mix)")
    assert [r["mix"] for r in rows] == ["mix, 100 chats", "mix, 1 chat", "new members (private)"]
    for row in rows:
        assert number(row["events"]) == 30, row  # every stored delivery was handled
        assert float(row["savepoints/event"]) == 0.0, row  # healthy slices take none
        assert "INSERT messages 1.00" in row["most run, per event"], row


def test_e2e(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    rate, seconds = 20, 0.5
    out = run_bench(
        "e2e",
        monkeypatch,
        capsys,
        bench.e2e,
        RATES=(rate,),
        SECONDS=seconds,
        DRAIN_SECONDS=30.0,
        FLOOD_EVENTS=30,
        WARM_UP=10,
    )
    assert "each flood after an unmeasured one of 10 other deliveries" in out
    flood = table_rows(out, "end to end under a flood (32 connections, 30 deliveries)")
    assert [r["handler"] for r in flood] == [
        "bare relay (baseline)",
        "pipeline floor: mix, 100 chats",
        "real app: mix, 100 chats",
        "real app: mix, 1 chat",
        "real app: new members (private)",
    ]
    for row in flood:
        assert number(row["200 answers"]) == 30, row
        # Every event answered at least once (a new member's private message: twice).
        assert number(row["sends seen"]) >= 30, row
        assert float(row["server CPU ms/event"]) > 0, row
    assert number(flood[-1]["sends seen"]) == 60
    assert number(flood[1]["sends seen"]) == 30  # the floor: one reply per event, no more
    rows = table_rows(out, "end to end (delivery -> reply at the fake Zalo)")
    assert [r["handler"] for r in rows] == ["bare relay (baseline)", "real app (serve)"]
    for row in rows:
        assert row["load"].startswith(f"{rate}/s for "), row
        # The child process sends rate x seconds deliveries: the sizes reached it.
        assert number(row["200 answers"]) == int(rate * seconds), row
        assert number(row["replies seen"]) == number(row["200 answers"]), row


def test_parse(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    count = 300
    out = run_bench("parse", monkeypatch, capsys, bench.parse, COUNT=count, RUNS=2)
    rows = table_rows(out, "parse() throughput (CPU time of one core)")
    paths = ["floor", "uncached", "uncached, rules only", "cached"]
    try:
        bench.baseline.parser_at()  # the parser before, from git (absent in a shallow clone)
    except bench.baseline.BaselineUnavailable:
        assert "cannot be loaded" in out, out
    else:
        paths = ["floor"] + [p for path in paths[1:] for p in ("before: " + path, path)]
        speedups = [r["speed vs before"] for r in rows if r["path"] in paths[2::2]]
        assert all(re.fullmatch(r"\d+\.\d\dx", x) for x in speedups), rows
    assert [r["path"] for r in rows] == paths
    for r in rows:
        assert number(r["msg/s"]) > 0 and float(r["p99 ms"]) >= float(r["p50 ms"]) >= 0
    assert re.search(rf"^- {count:,} messages from \d+ base messages.*; 2 runs;", out, re.M), out
    assert re.search(r"^- cached: \d+% cache hits", out, re.M), out
    pasted = table_rows(out, "parse() of big pastes (CPU time, read afresh)")
    assert [r["paste"] for r in pasted] == list(bench.parse.PASTES)
    assert all(re.fullmatch(r"<2 s (met|NOT met)", r["target"]) for r in pasted), pasted


def test_digest(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ANTT_BENCH_POSTGRES_URL", raising=False)  # SQLite only
    monkeypatch.delenv("ANTT_TEST_POSTGRES_URL", raising=False)
    members, groups = 100, 10
    out = run_bench(
        "digest",
        monkeypatch,
        capsys,
        bench.digest,
        MEMBERS=members,
        GROUPS=groups,
        MESSAGES=5_000,
        REPEAT=1,
    )
    title = (
        f"digest: one week ({bench.digest.WEEK}) of {members} members, {groups} groups, "
        "5,000 messages a year"
    )
    rows = table_rows(out, title)
    assert [(r["database"], r["what"]) for r in rows] == [
        ("SQLite", "baseline: COUNT(*) of the week's messages"),
        ("SQLite", "park totals (one scope)"),
        ("SQLite", "check-ins per enterprise and shift (part of the digest)"),
        ("SQLite", "whole digest: 50 groups, 40 enterprises, trend, people"),
    ]
    week = re.fullmatch(r"([\d,]+) messages", rows[0]["result"])
    assert week and number(week[1]) > 0, rows[0]
    totals = re.fullmatch(r"(\d+) of (\d+) active", rows[1]["result"])
    counted = members - bench.digest.COORDINATORS  # coordinators are not counted as members
    assert totals and 0 < int(totals[1]) <= int(totals[2]) == counted, rows[1]
    shifts = re.fullmatch(r"([\d,]+) check-ins in (\d+) rows", rows[2]["result"])
    assert shifts and int(shifts[2]) > 0, rows[2]
    digest = re.fullmatch(r"(\d+) groups, (\d+) inactive", rows[3]["result"])
    assert digest and int(digest[1]) == groups, rows[3]
    assert "PostgreSQL skipped" in out


def test_nudges(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    members, groups = 200, 5
    out = run_bench("nudges", monkeypatch, capsys, bench.nudges, MEMBERS=members, GROUPS=groups)
    rows = table_rows(out, f"nudges over {members} quiet members in {groups} groups")
    assert [(r["run"], r["messages queued"]) for r in rows] == [
        (f"baseline: read {members} members with their groups", "-"),
        ("nudge run (cold)", str(members)),  # every member is quiet
        ("nudge run again (idempotent)", "0"),
    ]
    assert f"outbox rows after both runs: {members};" in out


@pytest.mark.slow
def test_memory(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    deliveries = 300
    out = run_bench(
        "memory",
        monkeypatch,
        capsys,
        bench.memory,
        DELIVERIES=deliveries,
        MAX_SECONDS=60.0,
        PROCESS_WAIT=60.0,
    )
    rows = table_rows(out, "memory of `antt-bot serve` (VmHWM)")
    assert len(rows) == 3, out
    idle, loaded, processed = rows
    assert idle["moment"] == "serve, started and idle"
    answered = re.fullmatch(r"after ([\d,]+) deliveries \(200\) in \d+ s", loaded["moment"])
    assert answered and 0 < number(answered[1]) <= deliveries, loaded
    handled = re.fullmatch(r"after processing \(([\d,]+) handled\)", processed["moment"])
    assert handled and number(handled[1]) == number(answered[1]), processed
    assert loaded["rate"].endswith("/s"), loaded
    for row in rows:
        assert number(row["peak RSS MB"]) > 0, row


def test_understanding(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench.understanding, "CROSS_VALIDATE", False)  # no training here
    out = run_bench("understanding", monkeypatch, capsys, bench.understanding, LIMIT=60)
    (row,) = [
        r
        for r in table_rows(out, "understanding: corpus (60 lines)")
        if r["measure"] == "type accuracy"
    ]
    assert row["value"].endswith("%")
    types = table_rows(out, "per type: corpus")
    assert sum(number(r["lines"]) for r in types) == 60
    effect = table_rows(out, "learned second opinion: effect")
    assert {r["reading"] for r in effect} == {"rules alone", "rules + model"}
