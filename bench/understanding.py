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
from handlers.parse import _analyse, learned, parse  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = {
    "corpus": DATA / "understanding" / "corpus.jsonl",
    "corpus folded": DATA / "understanding" / "corpus_folded.jsonl",
    "dev (written apart)": DATA / "understanding_dev.jsonl",
}
SENT_AT = "2026-11-27T16:00:00+07:00"  # for lines without their own send time
TYPES: tuple[str, ...] = ("incident", "all_clear", "ack", "not_ack", "check_in", "absent")
TYPES += ("question", "command", "other")
FOLDS = 5
CROSS_VALIDATE = True  # the smoke test turns it off (it trains FOLDS models)
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


def with_model(on: bool) -> None:
    """Switch the learned second opinion on or off (and forget cached readings)."""
    learned.ENABLED = on
    _analyse.cache_clear()


def cross_validated(rows: list[dict[str, Any]], folds: int = FOLDS) -> Score:
    """The model's effect measured honestly on the corpus: each fold is scored by a model
    trained on the other folds (a line and its folded twin share an id, so share a fold)."""
    from bench import train_understanding as T
    from handlers.parse.learned import Model

    def fold_of(row: dict[str, Any]) -> int:
        return sum(str(row.get("id", row["text"])).encode()) % folds

    gate = learned.SURE_REPLY
    learned.SURE_REPLY = T.TRAIN_SURE_REPLY  # the examples as the trainer sees them
    try:
        asked = [(T.example(r), r) for r in rows]
    finally:
        learned.SURE_REPLY = gate
    total = Score()
    saved = learned._model
    try:
        for k in range(folds):
            train = [e for e, r in asked if fold_of(r) != k]
            data = T.train(T.without_common_words(train))  # as the shipped model
            model = Model(
                tuple(data["labels"]),
                {f: tuple((int(i), float(w)) for i, w in ps) for f, ps in data["w"].items()},
            )
            learned._model = lambda model=model: model  # type: ignore[assignment]
            _analyse.cache_clear()
            part = evaluate(r for r in rows if fold_of(r) == k)
            total = _merge(total, part)
    finally:
        learned._model = saved
        _analyse.cache_clear()
    return total


def _merge(a: Score, b: Score) -> Score:
    """Two scores of disjoint lines as one."""
    return Score(
        rows=a.rows + b.rows,
        type_right=a.type_right + b.type_right,
        incidents=a.incidents + b.incidents,
        category_right=a.category_right + b.category_right,
        severity_right=a.severity_right + b.severity_right,
        severity_rows=a.severity_rows + b.severity_rows,
        confusion=a.confusion + b.confusion,
        cat_pairs=a.cat_pairs + b.cat_pairs,
        ambiguous=a.ambiguous + b.ambiguous,
        false_urgent=a.false_urgent + b.false_urgent,
        false_fire=a.false_fire + b.false_fire,
        asked_first=a.asked_first + b.asked_first,
    )


def effect(rows_by_set: dict[str, list[dict[str, Any]]]) -> str:
    """Rules alone against rules with the learned second opinion, and cross-validated."""
    out = []
    for name, rows in rows_by_set.items():
        with_model(False)
        alone = evaluate(rows)
        with_model(True)
        both = evaluate(rows)
        out.append([name, "rules alone", *_figures(alone)])
        out.append([name, "rules + model", *_figures(both)])
        if name.startswith("corpus") and CROSS_VALIDATE:
            out.append([name, f"rules + model, {FOLDS}-fold", *_figures(cross_validated(rows))])
    return table(
        "learned second opinion: effect",
        ["set", "reading", "type", "category", "false fire", "false urgent"],
        out,
        [
            "the shipped model is trained on the corpus, its folded twin and the parse tables, so "
            "its corpus rows flatter it; the k-fold row (a model trained without the lines it "
            "reads) and the dev set written apart are the honest measures",
        ],
    )


def _figures(s: Score) -> list[str]:
    return [
        _pct(s.type_accuracy),
        _pct(s.category_accuracy),
        str(s.false_fire),
        str(len(s.false_urgent)),
    ]


def main(argv: list[str] | None = None) -> str:
    """Every labelled set that exists, scored and printed, then the model's effect."""
    from handlers.parse.vocabulary import _lexicon

    categories = _lexicon().categories
    parts = []
    rows_by_set: dict[str, list[dict[str, Any]]] = {}
    for name, path in SETS.items():
        if not path.exists():
            parts.append(f"### understanding: {name}\n\n(skipped: {path.name} is not there)")
            continue
        rows_by_set[name] = load(path, LIMIT)
        parts.append(report(name, evaluate(rows_by_set[name]), categories))
    if rows_by_set:
        parts.append(effect(rows_by_set))
    return "\n\n".join(parts)


if __name__ == "__main__":
    print(main(sys.argv[1:]))
