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
import struct
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from sys import intern
from typing import Any, Final

MODEL_PATH: Final = Path(__file__).with_name("understanding_model.json")
MARGIN: Final = 5.0  # how much more than the rules the model must score (bench-tuned)
# The same in hundredths, as the packed scores hold (exact: MARGIN has two decimals at most).
_MARGIN_VOTES: Final = round(MARGIN * 100)
_FIRE: Final = "incident:fire"
# Readings the model is not asked about: replies the rules read well (acknowledgements,
# check-ins, questions: on the corpus and the dev set the model changes few of them, and each
# consultation costs about a third of a parse) and incidents the rules are this sure of.
PLAIN_REPLIES: Final = frozenset({"ack", "check_in", "question", "command"})
SURE = 0.95
SURE_REPLY = 0.99
CLEAR_WEIGHT = 3.5


def consulted(kind: str, confidence: float, evidence: Mapping[str, float]) -> bool:
    """Whether the rules' reading is put to the model: not plain replies, not an incident
    with one category of clear weight and no rival category (`evidence`: weight by category)."""
    if kind in PLAIN_REPLIES:
        return False
    if kind == "incident":
        return confidence < SURE and (len(evidence) > 1 or max(evidence.values()) < CLEAR_WEIGHT)
    return confidence < SURE_REPLY


# Each label's score sits in its own 32-bit field of one integer, offset by half the field so
# that negative sums never borrow from the next field (a message's sum stays far from +-2**31).
_FIELD_BYTES: Final = 4
_ZERO: Final = 1 << 31  # a field's value for a score of 0


def _pack(pairs: Iterable[tuple[int, float]]) -> int:
    """One feature's votes as one integer: vote k, in hundredths, shifted into field k."""
    return sum(round(w * 100) << (32 * k) for k, w in pairs)


class Model:
    """Labels ("incident:fire", "ack"...) and, per feature, the labels it votes for.

    The votes of a feature are also kept packed into one integer, a field of `FIELD_BITS` per
    label holding the vote in hundredths (the trainer rounds weights to 0.01, so this is exact):
    a message's scores are then one integer addition per feature instead of one float addition
    per vote, and are unpacked once at the end."""

    __slots__ = (
        "bias",
        "by_label",
        "labels",
        "ones",
        "own",
        "pairs",
        "rules",
        "signs",
        "size",
        "unpack",
        "weights",
    )

    def __init__(
        self, labels: Sequence[str], weights: Mapping[str, Iterable[tuple[int, float]]]
    ) -> None:
        self.labels = tuple(labels)
        self.by_label = {lab: k for k, lab in enumerate(self.labels)}
        self.weights = {f: tuple(pairs) for f, pairs in weights.items()}
        # Two flat tables, word -> its votes and (word, next word) -> the pair's votes, keyed
        # by interned words: a word costs two look-ups and touches few objects.
        self.rules: dict[str, int] = {}
        self.own: dict[str, int] = {}
        self.pairs: dict[tuple[str, str], int] = {}
        for f, votes in self.weights.items():
            first, _, second = map(intern, f.partition(" "))  # see scanning._read_chunk
            if f.startswith("r:"):
                self.rules[f] = _pack(votes)
            elif second:
                self.pairs[first, second] = _pack(votes)
            else:
                self.own[first] = _pack(votes)
        self.bias = sum(_ZERO << (32 * k) for k in range(len(self.labels)))
        self.ones = sum(1 << (32 * k) for k in range(len(self.labels)))  # 1 in every field
        self.signs = _ZERO * self.ones  # the top bit of every field
        self.size = len(self.labels) * _FIELD_BYTES
        self.unpack = struct.Struct(f"<{len(self.labels)}I").unpack

    def scores_of(self, ftoks: Sequence[str], rules: str) -> tuple[int, ...]:
        """Each label's score for the words, word pairs and the rules' label (`features()`), in
        hundredths and offset by the same constant: only differences between labels matter."""
        return self.unpack(self.packed_scores(ftoks, rules).to_bytes(self.size, "little"))

    def packed_scores(self, ftoks: Sequence[str], rules: str) -> int:
        """The scores of `scores_of`, still packed one field a label. Punctuation and emoji are
        never features, so they add nothing and end a pair."""
        own = self.own.get
        pairs = self.pairs.get
        total = self.bias + self.rules.get("r:" + rules, 0)
        prev = ""  # a pair is only ever found after a word that starts one
        for tok in ftoks:
            votes = pairs((prev, tok))
            if votes is not None:
                total += votes
            votes = own(tok)
            if votes is not None:
                total += votes
            prev = tok
        return total

    def any_beats(self, packed: int, mine: int, by: int) -> bool:
        """Whether some label scores more than `by` (hundredths) above label `mine`, read off the
        packed scores without unpacking them: `mine`'s score plus `by` + 1 is taken from every
        field (no field goes below zero or past its top, so none borrows from the next one), and
        a field keeps its top bit exactly when its label scored that much or more."""
        floor = (packed >> (32 * mine)) & 0xFFFFFFFF  # mine's field: _ZERO + its score
        return bool((packed - (floor - _ZERO + by + 1) * self.ones) & self.signs)


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
    weights = {f: [(int(k), float(w)) for k, w in pairs] for f, pairs in data["w"].items()}
    return Model(labels, weights)


@cache
def _model() -> Model | None:
    return load()


def preload() -> None:
    """Read the model now rather than at the first unsure message (~30 ms on the loop)."""
    _model()


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
    packed = model.packed_scores(ftoks, rules)
    mine = model.by_label.get(rules)
    if mine is not None and not model.any_beats(packed, mine, _MARGIN_VOTES):
        return kind, category  # the usual answer, found without unpacking the scores
    scores = model.unpack(packed.to_bytes(model.size, "little"))
    top = max(scores)
    best = scores.index(top)
    choice = model.labels[best]
    if choice == rules:
        return kind, category
    if top - (scores[mine] if mine is not None else _ZERO) <= MARGIN * 100:
        return kind, category
    if choice == _FIRE or (rules == _FIRE and strong_fire):
        return kind, category  # a fire is the rules' call, both ways
    if choice.startswith("incident:"):
        return "incident", choice.split(":", 1)[1]
    return choice, None
