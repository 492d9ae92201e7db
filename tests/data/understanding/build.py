"""Build the development corpus: situations x phrasings x places x people x typing habits.

Usage: python tests/data/understanding/build.py   (writes corpus.jsonl and corpus_folded.jsonl)
Deterministic (fixed seed). Standard library only; nothing outside this folder is read.
"""

from __future__ import annotations

import json
import random
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fold import AMBIGUOUS_TYPES, fold  # noqa: E402
from fold import main as fold_main  # noqa: E402
from noise import fold_words, rests_on_ambiguous, teencode, telex, typo  # noqa: E402
from slots import COMPANIES, pick_sent, render  # noqa: E402

TEMPLATES = HERE / "templates"
# Categories whose events happen in working hours: their reports get a daytime clock.
DAYTIME = {"inspection", "strike", "poisoning"}

SEVERITY = {"H": "high", "M": "medium", "L": "low"}
SEED = 14
# words a typo must not touch: time and place words keep their labels exact
PROTECTED = {
    "qua", "nay", "sáng", "tối", "đêm", "hôm", "kia", "ngày", "lúc", "mai", "chiều", "rạng",
    "xưởng", "kho", "cổng", "lô", "số", "cty", "ktx",
} | {word.lower() for name in COMPANIES for word in name.split()}  # fmt: skip


# Places without a code (kind "place", as parse_cases labels nhà xe and KTX): a line naming
# one, as typed, must yield a place of that kind.
GENERIC_PLACE = re.compile(
    r"(?<!\w)(nha xe|bai xe|ky tuc xa|ktx|nha an|cang tin|nha ve sinh|van phong|tram bien ap"
    r"|phong bao ve|nha bao ve)(?!\w)"
)


class Corpus:
    """Collects rows, drops duplicates (case-insensitive), numbers them."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.seen: set[str] = set()

    def add(self, row: dict[str, Any]) -> bool:
        key = " ".join(row["text"].lower().split())
        if key in self.seen:
            return False
        self.seen.add(key)
        row["id"] = f"u{len(self.rows) + 1:04d}"
        self.rows.append(row)
        return True


def sections(name: str) -> dict[str, list[str]]:
    """A templates file as {section: lines}; '#' lines are comments, [lower case] heads."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in (TEMPLATES / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if re.fullmatch(r"\[[a-z_]+( [a-z_]+)?( [LMH])?\]", line):  # not "[Sticker]" lines
            current = out.setdefault(line[1:-1], [])
        else:
            current.append(line)
    return out


def parse_lines(lines: list[str]) -> list[tuple[str, str | None, str | None]]:
    """Template lines -> (text, why, reason)."""
    out = []
    for line in lines:
        reason = None
        if " || " in line:
            line, rest = line.split(" || ", 1)
            if " ## " in rest:
                reason, why = rest.split(" ## ", 1)
                line = f"{line} ## {why}"
            else:
                reason = rest
        text, _, why = line.partition(" ## ")
        out.append((text.strip(), why.strip() or None, reason.strip() if reason else None))
    return out


def accents_of(text: str, written: str) -> str:
    """full: typed with its marks; none: no marks at all; mixed: some words lost theirs."""
    if fold(text) == text:
        return "none"
    return "full" if text == written else "mixed"


def place_present(kind: str, code: str | None, text: str) -> bool:
    """The place mention is still in `text` (folded, lower-case)."""
    low = fold(text).lower()
    if code is None:
        return True
    c = re.escape(fold(code).lower())
    pattern = {
        "workshop": rf"xuong (so )?{c}(?!\w)",
        "warehouse": rf"kho (so )?{c}(?!\w)",
        "gate": rf"cong (so )?{c}(?!\w)",
        "lot": rf"lo {c}(?!\w)",
        "company": rf"(?<!\w){c}(?!\w)",
    }[kind]
    return re.search(pattern, low) is not None


def typed_places(places: list[list[str | None]], text: str) -> list[list[str | None]]:
    """Place labels as the typed text spells them (a folded name keeps its folded code)."""
    out = []
    for kind, code in places:
        assert kind is not None
        if code is not None and code not in text and fold(code) in text:
            code = fold(code)
        assert place_present(kind, code, text), (kind, code, text)
        out.append([kind, code])
    return out


def chat_typing(text: str, rng: random.Random, has_places: bool) -> tuple[str, str, str]:
    """How one member types `text` on a phone: (typed text, accents style, slip or "")."""
    written = text
    slip = ""
    if rng.random() < 0.55:
        text = teencode(text, rng)
    style = rng.random()
    if style < 0.36:
        text = fold(text)
    elif style < 0.48:
        text = fold_words(text, rng, 0.5)
    elif style < 0.56 and not has_places and len(text.split()) <= 8:
        text = telex_line(text)  # the keyboard's Vietnamese mode was off: "cos mawtj"
        slip = "telex_line"
    if rng.random() < 0.24:
        text, kind = typo_protected(text, rng)
        slip = "+".join(k for k in (slip, kind) if k)
    accents = accents_of(text, written)
    if rng.random() < 0.35 and text[:1].isupper() and not text[:2].isupper():
        text = text[0].lower() + text[1:]
    return text, accents, slip


def telex_line(text: str) -> str:
    """Every word as raw Telex keystrokes, as typed with the IME switched off."""
    return re.sub(r"\w+", lambda m: telex(m.group(0)), text)


def typo_protected(text: str, rng: random.Random) -> tuple[str, str]:
    """A typo that leaves time, place and company words alone (tries a few times):
    (text, kind of slip or "" when none fitted)."""
    protected = {fold(word) for word in PROTECTED}
    old = re.findall(r"\w+", text)
    for _ in range(6):
        new_text, kind = typo(text, rng)
        new = re.findall(r"\w+", new_text)
        pairs = enumerate(zip(old, new, strict=False))
        first = next((i for i, (a, b) in pairs if a != b), len(new))
        touched = old[first : first + 2] if len(new) < len(old) else old[first : first + 1]
        if not any(
            fold(w).lower() in protected or any(ch.isdigit() or ch.isupper() for ch in w)
            for w in touched
        ):
            return new_text, kind
    return text, ""


def formal_typing(text: str, rng: random.Random, fold_share: float) -> str:
    """Formal writers keep their marks, except those who type without them."""
    return fold(text) if rng.random() < fold_share else text


def make_row(
    rng: random.Random,
    template: str,
    *,
    type_: str,
    register: str,
    channel: str,
    typing: str,
    category: str | None = None,
    severity: str | None = None,
    why: str | None = None,
    reason: str | None = None,
    ambiguous: bool = False,
) -> dict[str, Any]:
    """Render one template into a labelled row."""
    # " !amb": a template typed without marks whose reading rests on an ambiguous word
    if template.endswith(" !amb"):
        template, ambiguous = template[: -len(" !amb")], True
    # " @@ HH:MM": a clock typed in the template, today (sent later); " @@ !HH:MM": today,
    # sent any time (tối nay keeps today); " @@ -1 HH:MM": yesterday
    clock = re.search(r" @@ (!|-1 )?(\d\d):(\d\d)$", template)
    if clock:
        template = template[: clock.start()]
        hour, minute = int(clock.group(2)), int(clock.group(3))
    sent = pick_sent(rng, hour if clock and not clock.group(1) else 8)
    formal = register != "chat"
    rendered = render(template, rng, sent, formal)
    if clock:
        day = sent - timedelta(days=1) if clock.group(1) == "-1 " else sent
        rendered.time = {"at": day.replace(hour=hour, minute=minute).strftime("%Y-%m-%dT%H:%M")}
    written = rendered.text
    if fold(template) == template:  # a template written without marks fills its slots so too
        written = fold(written)
    if typing == "chat":
        text, accents, slip = chat_typing(written, rng, bool(rendered.places))
    else:
        share = {"formal": 0.2, "news": 0.08}.get(typing, 0.0)
        text = formal_typing(written, rng, share)
        accents, slip = accents_of(text, written), ""
    row: dict[str, Any] = {
        "text": text,
        "type": type_,
        "category": category,
        "severity": severity,
        "ambiguous": ambiguous or (type_ in AMBIGUOUS_TYPES and rests_on_ambiguous(written, text)),
        "register": register,
        "channel": channel,
        "accents": accents,
        "sent_at": sent.strftime("%Y-%m-%dT%H:%M:%S+07:00"),
    }
    if rendered.time:
        row["time"] = rendered.time
    places = typed_places(rendered.places, text)
    if GENERIC_PLACE.search(fold(text).lower()):
        places.append(["place", None])
    if places:
        row["places"] = places
    if slip:
        row["typo"] = slip
    if reason:
        row["reason"] = fold(reason) if fold(text) == text else reason
    if why:
        row["why"] = why
    return row


def channel(rng: random.Random, group_share: float) -> str:
    return "group" if rng.random() < group_share else "private"


def expand(corpus: Corpus, rng: random.Random, template: str, copies: int, **labels: Any) -> None:
    """Add up to `copies` distinct renderings of one template."""
    group_share = labels.pop("group_share", 0.5)
    added = 0
    for _ in range(copies * 4):
        row = make_row(rng, template, channel=channel(rng, group_share), **labels)
        if corpus.add(row):
            added += 1
        if added >= copies:
            return


def build_chat_incidents(corpus: Corpus, rng: random.Random) -> None:
    for category, lines in sections("chat_incidents.txt").items():
        for text, why, _ in parse_lines(lines):
            sev, template = text.split(" ", 1)
            expand(corpus, rng, template, 2, type_="incident", category=category,
                   severity=SEVERITY[sev], why=why, register="chat", typing="chat",
                   group_share=0.55)  # fmt: skip


def build_chat_others(corpus: Corpus, rng: random.Random) -> None:
    shares = {"check_in": 0.85, "ack": 0.6, "not_ack": 0.5, "absent": 0.35, "question": 0.6,
              "other": 0.7, "all_clear": 0.6}  # fmt: skip
    blocks = sections("chat_others.txt")
    commands = blocks.pop("command")
    for type_, lines in blocks.items():
        for text, why, reason in parse_lines(lines):
            expand(corpus, rng, text, 3, type_=type_, why=why, reason=reason, register="chat",
                   typing="chat", group_share=shares[type_])  # fmt: skip
    for text, why, _ in parse_lines(commands):
        filled = text.replace("{k}", str(rng.randint(1, 40)))
        expand(corpus, rng, filled, 2, type_="command", why=why, register="chat",
               typing="none", group_share=0.6)  # fmt: skip


def compose_report(
    rng: random.Random, parts: dict[str, list[str]], category: str
) -> tuple[str, str]:
    """One formal report of `category` from the pieces in reports.txt: (template, severity)."""
    allowed, place, rest = rng.choice(parts[f"events {category}"]).split(" ", 2)
    clause, *only = rest.split(" || ")
    handlings = {sev: parts.get(f"handling {category} {sev}", []) for sev in "LMH"}
    sev = rng.choice([s for s in allowed if only or handlings[s]])
    handling = rng.choice(only or handlings[sev])
    if re.match(r"[LMH]: ", handling):  # this outcome sets the severity itself
        sev, handling = handling[0], handling[3:]
    opening = rng.choice(parts["openings"])
    if "ban đêm" in handling:  # the handling says it was at night: so must the clock
        for slot in ("{date_at}", "{toiqua_at}"):
            opening = opening.replace(slot, "{dnight_at}")
        opening = opening.replace("{hm}", "{night_hm}")
    if category in DAYTIME:
        opening = opening.replace("{date_at}", "{dday_at}").replace("{toiqua_at}", "{dday_at}")
        opening = opening.replace("{sangnay_at}", "lúc {hm} hôm nay")
    first = opening.replace("{PLACE}", place).replace("{EVENT}", clause)
    if "Diễn biến: " in first:  # a form field starts with a capital
        head, _, tail = first.partition("Diễn biến: ")
        first = head + "Diễn biến: " + tail[:1].upper() + tail[1:]
    sentences = [first, handling]
    if rng.random() < 0.4:
        sentences.insert(0, rng.choice(parts["background"]))
    if rng.random() < 0.6:
        # a record (biên bản) closing an inspection would read as a violation found
        closings = [c for c in parts["closings"] if category != "inspection" or "biên bản" not in c]
        sentences.append(rng.choice(closings))
    return " ".join(sentences), sev


def build_formal(corpus: Corpus, rng: random.Random, per_category: int) -> None:
    parts = sections("reports.txt")
    categories = [name.split(" ", 1)[1] for name in parts if name.startswith("events ")]
    for category in categories:
        added = 0
        for _ in range(per_category * 5):
            template, sev = compose_report(rng, parts, category)
            row = make_row(rng, template, type_="incident", category=category,
                           severity=SEVERITY[sev], register="formal", typing="formal",
                           channel=channel(rng, 0.5))  # fmt: skip
            if corpus.add(row):
                added += 1
            if added >= per_category:
                break


def build_news(corpus: Corpus, rng: random.Random) -> None:
    blocks = sections("news.txt")
    wrappers = blocks.pop("forwarded")
    for category, lines in blocks.items():
        for text, why, _ in parse_lines(lines):
            sev, template = text.split(" ", 1)
            for _copy in range(2):  # half of the items come wrapped as members forward them
                wrapped = rng.choice(wrappers) if rng.random() < 0.5 else "{NEWS}"
                expand(corpus, rng, wrapped.replace("{NEWS}", template), 1, type_="incident",
                       category=category, severity=SEVERITY[sev], why=why, register="news",
                       typing="news", group_share=0.9)  # fmt: skip


def build_notices(corpus: Corpus, rng: random.Random) -> None:
    for text, why, _ in parse_lines(sections("notices.txt")["notice"]):
        label, template = text.split(" ", 1)
        if label == "other":
            labels: dict[str, Any] = {"type_": "other"}
        else:
            _, category, sev = label.split(":")
            labels = {"type_": "incident", "category": category, "severity": SEVERITY[sev]}
        expand(corpus, rng, template, 2, why=why, register="notice", typing="news",
               group_share=1.0, **labels)  # fmt: skip


def build_formal_others(corpus: Corpus, rng: random.Random) -> None:
    for type_, lines in sections("formal_others.txt").items():
        for text, why, reason in parse_lines(lines):
            expand(corpus, rng, text, 2, type_=type_, why=why, reason=reason,
                   register="formal", typing="formal", group_share=0.5)  # fmt: skip


def build() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    corpus = Corpus()
    build_chat_incidents(corpus, rng)
    build_formal(corpus, rng, per_category=22)
    build_news(corpus, rng)
    build_notices(corpus, rng)
    build_chat_others(corpus, rng)
    build_formal_others(corpus, rng)
    return corpus.rows


def main() -> int:
    rows = build()
    target = HERE / "corpus.jsonl"
    target.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    print(f"corpus.jsonl: {len(rows)} lines")
    return fold_main(["fold.py"])


if __name__ == "__main__":
    sys.exit(main())
