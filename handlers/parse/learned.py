"""A learned second opinion on the rules' reading: an averaged perceptron over the folded words,
word pairs and the rules' own answer, trained offline from the development corpus
(scripts/train_understanding.py) and shipped as understanding_model.json. Standard library only.

It may change the type or the category the rules chose when it is clearly surer, within limits
that keep the rules in charge of what matters most (docs/parser.md): it never makes a fire out
of something the rules did not read as one, it never overrides strong fire evidence, and it
never touches commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

MODEL_PATH: Final = Path(__file__).with_name("understanding_model.json")
MARGIN: Final = 8.0  # how much surer than the rules the model must be (its scores; bench-tuned)
_FIRE: Final = "incident:fire"


@dataclass(frozen=True, slots=True)
class Model:
    """Labels ("incident:fire", "ack"...) and, per feature, the labels it votes for."""

    labels: tuple[str, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]

    def scores(self, feats: Iterable[str]) -> list[float]:
        out = [0.0] * len(self.labels)
        weights = self.weights
        for f in feats:
            for k, w in weights.get(f, ()):
                out[k] += w
        return out


def label(kind: str, category: str | None) -> str:
    """One label for a reading: the category is part of an incident's label."""
    return f"incident:{category or 'other'}" if kind == "incident" else kind


def features(ftoks: Sequence[str], rules: str) -> list[str]:
    """The folded words, adjacent word pairs (not across punctuation) and the rules' label."""
    out = ["r:" + rules]
    prev = ""
    for tok in ftoks:
        if not tok[0].isalnum():
            prev = ""
            continue
        out.append(tok)
        if prev:
            out.append(prev + " " + tok)
        prev = tok
    return out


def load(path: Path = MODEL_PATH) -> Model | None:
    """The shipped model, or None when the file is absent (the rules then decide alone)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    labels = tuple(data["labels"])
    weights = {f: tuple((int(k), float(w)) for k, w in pairs) for f, pairs in data["w"].items()}
    return Model(labels, weights)


@cache
def _model() -> Model | None:
    return load()


# The bench switches the model off to measure the rules alone.
ENABLED = True


def second_opinion(
    ftoks: Sequence[str], kind: str, category: str | None, strong_fire: bool
) -> tuple[str, str | None]:
    """The type and category after the model's opinion (the rules' when it is not surer)."""
    model = _model() if ENABLED else None
    if model is None or kind == "command":
        return kind, category
    rules = label(kind, category)
    scores = model.scores(features(ftoks, rules))
    best = max(range(len(scores)), key=scores.__getitem__)
    choice = model.labels[best]
    if choice == rules:
        return kind, category
    mine = scores[model.labels.index(rules)] if rules in model.labels else 0.0
    if scores[best] - mine < MARGIN:
        return kind, category
    if choice == _FIRE or (rules == _FIRE and strong_fire):
        return kind, category  # a fire is the rules' call, both ways
    if choice.startswith("incident:"):
        return "incident", choice.split(":", 1)[1]
    return choice, None
