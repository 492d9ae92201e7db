"""Benchmark parse(): messages per second on one core and time per message (p50, p99).

Run: python bench/parse.py [N]   (default 100,000 messages). The messages are the test tables
with variations members produce (no diacritics, capitals, NFD, emoji, other numbers and names);
a trivial lower() + fold + keyword scan over the same messages is timed as a baseline. Times
are CPU time of this process, so a busy shared machine distorts them less than wall time.
"cold" reads every text afresh; "parse()" is the real function with its cache of readings.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import handlers.parse as P  # noqa: E402
from handlers.parse import parse  # noqa: E402
from handlers.text import fold  # noqa: E402

DATA = ROOT / "tests" / "data"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KEYWORDS = ("cháy", "trộm", "đánh nhau", "tai nạn", "đình công", "ma túy", "đã nhận", "có mặt")
NAMES = ("ABC", "Minh Long", "Hansol", "May Việt", "Đức Phát", "Sao Vàng", "Tân Tạo")
EMOJI = ("", "", "", " 👍", " 🙏", " !!!", " 🔥", " 😢")


def base_messages() -> list[str]:
    """Every message of the shared cases and of our own table."""
    out: list[str] = []
    for name in ("parse_cases.jsonl", "parse_table.jsonl"):
        path = DATA / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    out.append(json.loads(line)["text"])
    return out


def variant(text: str, rng: random.Random) -> str:
    """One way a member might have typed the same thing."""
    roll = rng.random()
    if roll < 0.3:
        text = fold(unicodedata.normalize("NFC", text))
    elif roll < 0.4:
        text = text.upper()
    elif roll < 0.45:
        text = unicodedata.normalize("NFD", text)
    digits = "".join(c if not c.isdigit() else str(rng.randrange(10)) for c in text)
    if rng.random() < 0.5:
        text = digits
    for name in NAMES:
        if name in text and rng.random() < 0.5:
            text = text.replace(name, rng.choice(NAMES))
    return text + rng.choice(EMOJI)


def timed(
    fn: Callable[[str, datetime], object], messages: list[str], sent: list[datetime]
) -> tuple[float, list[float]]:
    """CPU seconds in total and per message: CPU time does not count the moments other
    processes held the core, which wall-clock time on a shared machine would."""
    samples: list[float] = []
    clock = time.thread_time
    gc.collect()
    gc.disable()
    try:
        t0 = time.process_time()
        for text, at in zip(messages, sent, strict=True):
            s = clock()
            fn(text, at)
            samples.append(clock() - s)
        total = time.process_time() - t0
    finally:
        gc.enable()
    samples.sort()
    return total, samples


def report(name: str, total: float, samples: list[float], baseline: float) -> None:
    """One line of figures."""
    count = len(samples)
    p50 = statistics.median(samples) * 1e3
    p99 = samples[int(count * 0.99) - 1] * 1e3
    rate = count / total
    print(
        f"{name:<9} {rate:>9,.0f} msg/s  p50 {p50:.4f} ms  p99 {p99:.4f} ms  "
        f"{total / baseline:5.1f}x baseline  "
        f"[>=50k/s {'met' if rate >= 50_000 else 'NOT met'}, "
        f"p99<0.2ms {'met' if p99 < 0.2 else 'NOT met'}]"
    )


def main() -> None:
    """Generate the messages, time the baseline and both parser paths, print the figures."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(20261127)
    bases = base_messages()
    messages = [variant(rng.choice(bases), rng) for _ in range(count)]
    start_at = datetime(2026, 11, 27, 16, 0, tzinfo=TZ)
    sent = [start_at - timedelta(minutes=rng.randrange(60 * 24 * 7)) for _ in range(count)]
    keys = [fold(k) for k in KEYWORDS]

    def baseline_fn(text: str, at: datetime) -> object:
        low = fold(text.lower())
        return [k for k in keys if k in low]

    def cold(text: str, at: datetime) -> object:
        # What parse() costs for a text it has not seen: the uncached analysis + time.
        return P._analyse_text(text)

    for text, at in zip(messages[:2000], sent, strict=False):  # warm up (lexicon, memo)
        parse(text, at)

    base_total, _ = timed(baseline_fn, messages, sent)
    print(
        f"messages: {count:,} from {len(bases)} base messages and variations; "
        f"{len(set(messages)):,} distinct texts"
    )
    print(f"baseline  {count / base_total:>9,.0f} msg/s  (lower + fold + 8 keyword 'in' tests)")
    total, samples = timed(cold, messages, sent)
    report("cold", total, samples, base_total)
    P._analyse.cache_clear()
    total, samples = timed(parse, messages, sent)
    report("parse()", total, samples, base_total)
    info = P._analyse.cache_info()
    print(
        f"cache     {info.hits / max(1, info.hits + info.misses):.0%} hits "
        f"(maxsize {info.maxsize}); cold = every text read afresh"
    )


if __name__ == "__main__":
    main()
