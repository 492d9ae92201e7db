"""How well parse() understands labelled chat: per-type and per-category precision and recall,
the type confusion matrix and the false urgent alerts, on each labelled set.

Run: python -m bench understanding. The sets: the development corpus and its folded twin
(tests/data/understanding/, written to resemble a park's Zalo chat), and a second dev set written
apart from the parser (tests/data/understanding_dev.jsonl). Each line: text, type, category,
severity, ambiguous (optional sent_at). A set that is not there is skipped.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import table  # noqa: E402
from handlers.parse import parse  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = {
    "corpus": DATA / "understanding" / "corpus.jsonl",
    "corpus folded": DATA / "understanding" / "corpus_folded.jsonl",
    "dev (written apart)": DATA / "understanding_dev.jsonl",
}
SENT_AT = "2026-11-27T16:00:00+07:00"  # for lines without their own send time
TYPES = ("incident", "all_clear", "ack", "not_ack", "check_in", "absent", "question", "command")
TYPES += ("other",)
LIMIT = 0  # read at most this many lines per set (0: all); the smoke test shrinks it
# What alerts at once with the shipped configuration (alerts.urgent_*): a fire, or anything high.
URGENT_CATEGORIES = frozenset({"fire"})


def load(path: Path, limit: int = 0) -> list[dict[str, Any]]:
    """The labelled lines of a JSON-lines file."""
    rows = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return rows[:limit] if limit else rows


def urgent(category: str | None, severity: str | None) -> bool:
    return category in URGENT_CATEGORIES or severity == "high"


def alerts_at_once(got: dict[str, Any]) -> bool:
    """Whether the bot alerts without asking first (docs/parser.md: an ambiguous reading with
    no reason for its severity is confirmed with the reporter first)."""
    return (
        got["type"] == "incident"
        and urgent(got["category"], got["severity"])
        and not (got["ambiguous"] and not got["reasons"])
    )


@dataclass
class Score:
    """The comparison of parses against one labelled set."""

    rows: int = 0
    type_right: int = 0
    incidents: int = 0
    category_right: int = 0
    severity_right: int = 0
    severity_rows: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    cat_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    ambiguous: Counter[tuple[bool, bool]] = field(default_factory=Counter)
    false_urgent: list[tuple[str, str, str]] = field(default_factory=list)  # text, got, want
    false_fire: int = 0
    asked_first: int = 0  # false urgent readings the bot would confirm before alerting

    @property
    def type_accuracy(self) -> float:
        return self.type_right / self.rows if self.rows else 1.0

    @property
    def category_accuracy(self) -> float:
        """Right category among the labelled incidents (a missed incident counts wrong)."""
        return self.category_right / self.incidents if self.incidents else 1.0


def evaluate(rows: Iterable[dict[str, Any]]) -> Score:
    """Parse every line at its send time and compare with its labels."""
    s = Score()
    for row in rows:
        got = parse(row["text"], datetime.fromisoformat(row.get("sent_at") or SENT_AT)).to_dict()
        want_type, got_type = row["type"], got["type"]
        want_cat = row.get("category") if want_type == "incident" else None
        got_cat = got["category"] if got_type == "incident" else None
        s.rows += 1
        s.type_right += got_type == want_type
        s.confusion[(want_type, got_type)] += 1
        s.cat_pairs[(want_cat or "-", got_cat or "-")] += 1
        if want_type == "incident":
            s.incidents += 1
            s.category_right += got_cat == want_cat
            if got_type == "incident" and row.get("severity"):
                s.severity_rows += 1
                s.severity_right += got["severity"] == row["severity"]
        if "ambiguous" in row:
            s.ambiguous[(bool(row["ambiguous"]), bool(got["ambiguous"]))] += 1
        want_urgent = want_type == "incident" and urgent(want_cat, row.get("severity"))
        if got_type == "incident" and urgent(got_cat, got["severity"]) and not want_urgent:
            at_once = alerts_at_once(got)
            s.asked_first += not at_once
            label = f"{got_cat}/{got['severity']}" + ("" if at_once else " (asked first)")
            want = f"{want_type}/{want_cat or '-'}/{row.get('severity') or '-'}"
            s.false_urgent.append((row["text"], label, want))
        if got_cat == "fire" and want_cat != "fire":
            s.false_fire += 1
    return s


def _pr(pairs: Counter[tuple[str, str]], label: str) -> tuple[float, float, int]:
    """Precision, recall and support of one label over (want, got) pairs."""
    tp = pairs[(label, label)]
    got = sum(n for (_, g), n in pairs.items() if g == label)
    want = sum(n for (w, _), n in pairs.items() if w == label)
    return (tp / got if got else 1.0), (tp / want if want else 1.0), want


def _pct(x: float) -> str:
    return f"{x:.1%}"


def report(name: str, s: Score, categories: Sequence[str]) -> str:
    """The tables of one set."""
    out = [
        table(
            f"understanding: {name} ({s.rows} lines)",
            ["measure", "value"],
            [
                ["type accuracy", _pct(s.type_accuracy)],
                ["category accuracy (labelled incidents)", _pct(s.category_accuracy)],
                [
                    "severity accuracy (incidents read as such)",
                    _pct(s.severity_right / s.severity_rows if s.severity_rows else 1.0),
                ],
                ["false fire (read fire, labelled otherwise)", str(s.false_fire)],
                ["false urgent readings", str(len(s.false_urgent))],
                ["of which asked first, not alerted", str(s.asked_first)],
                [
                    "ambiguous flag precision / recall",
                    "{} / {}".format(*map(_pct, _pr_bool(s.ambiguous))),
                ],
            ],
        )
    ]
    type_rows = []
    for t in TYPES:
        p, r, n = _pr(s.confusion, t)
        if n or any(g == t for (_, g) in s.confusion):
            type_rows.append([t, n, _pct(p), _pct(r)])
    out.append(table(f"per type: {name}", ["type", "lines", "precision", "recall"], type_rows))
    cat_rows = []
    for c in categories:
        p, r, n = _pr(s.cat_pairs, c)
        if n or any(g == c for (_, g) in s.cat_pairs):
            cat_rows.append([c, n, _pct(p), _pct(r)])
    out.append(
        table(f"per category: {name}", ["category", "incidents", "precision", "recall"], cat_rows)
    )
    present = [t for t in TYPES if any(t in pair for pair in s.confusion)]
    matrix = [[w] + [str(s.confusion[(w, g)] or ".") for g in present] for w in present]
    out.append(
        table(f"type confusion: {name} (rows: labelled, columns: read)", ["", *present], matrix)
    )
    if s.false_urgent:
        out.append(
            table(
                f"false urgent readings: {name}",
                ["text", "read", "labelled"],
                [[_short(t), g, w] for t, g, w in s.false_urgent],
            )
        )
    return "\n\n".join(out)


def _pr_bool(pairs: Counter[tuple[bool, bool]]) -> tuple[float, float]:
    tp = pairs[(True, True)]
    got = tp + pairs[(False, True)]
    want = tp + pairs[(True, False)]
    return (tp / got if got else 1.0), (tp / want if want else 1.0)


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str] | None = None) -> str:
    """Every labelled set that exists, scored and printed."""
    from handlers.parse.vocabulary import _lexicon

    categories = _lexicon().categories
    parts = []
    for name, path in SETS.items():
        if not path.exists():
            parts.append(f"### understanding: {name}\n\n(skipped: {path.name} is not there)")
            continue
        parts.append(report(name, evaluate(load(path, LIMIT)), categories))
    return "\n\n".join(parts)


if __name__ == "__main__":
    print(main(sys.argv[1:]))
