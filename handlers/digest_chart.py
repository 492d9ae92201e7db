"""The digest's chart as a PNG: activity per group or enterprise, and the 4-week trend.

It lives in handlers/ (not bot/) because the weekly job renders it and handlers never import
bot/. matplotlib is imported inside the function so loading the jobs stays cheap; the Agg
backend and the bundled DejaVu Sans (which covers Vietnamese) need no display or download.
"""

from __future__ import annotations

import io

from handlers.digest import Digest
from handlers.texts import digest as texts

MAX_BARS = 12  # more bars than this are unreadable on a phone; the dashboard lists them all


def render_png(digest: Digest, *, dpi: int = 110) -> bytes:
    """Two panels side by side; the same digest always gives the same bytes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = [(g.name, f.active, f.inactive) for g, f in digest.groups if f.members]
    if len(rows) < 2:
        rows = [(name, f.active, f.inactive) for name, f in digest.enterprises if f.members]
    rows = sorted(rows, key=lambda r: (-(r[1] + r[2]), r[0]))[:MAX_BARS]
    rows.reverse()  # barh draws bottom-up: the biggest ends on top

    fig = Figure(figsize=(10, 5.2), dpi=dpi)
    fig.suptitle(
        texts.CHART_TITLE.format(num=digest.week_number), fontsize=14, fontfamily="DejaVu Sans"
    )
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    if rows:
        labels = [_clip(name, 28) for name, _a, _i in rows]
        active = [a for _n, a, _i in rows]
        inactive = [i for _n, _a, i in rows]
        at = list(range(len(rows)))
        left.barh(at, active, color="#2e7d32", label=texts.CHART_ACTIVE)
        left.barh(
            at, inactive, left=active, color="#c62828", alpha=0.75, label=texts.CHART_INACTIVE
        )
        # Names are drawn as written: with mathtext a group called "Giá $5 và $6" is read
        # as a formula, and one like "$\\frac{" stops the chart (issue 13). Per label, not
        # rcParams: those are global and the dashboard renders charts in threads.
        left.set_yticks(at, labels, parse_math=False)
        left.legend(loc="lower right", fontsize=8, frameon=False)
        left.tick_params(axis="y", labelsize=8)
        left.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        left.text(0.5, 0.5, texts.CHART_EMPTY, ha="center", va="center")
        left.set_axis_off()

    weeks = [wk.split("-W")[1] for wk, _f in digest.trend]
    series = (
        (texts.CHART_ACTIVE, [f.active for _w, f in digest.trend], "#2e7d32"),
        (texts.CHART_CHECKINS, [f.checkins for _w, f in digest.trend], "#1565c0"),
        (texts.CHART_REPORTS, [f.reports for _w, f in digest.trend], "#ef6c00"),
    )
    for label, values, color in series:
        right.plot(weeks, values, marker="o", color=color, label=label)
    right.set_title(texts.CHART_TREND, fontsize=10)
    right.set_xlabel(texts.CHART_WEEK)
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_ylim(bottom=0)
    right.legend(fontsize=8, frameon=False)
    right.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    # No timestamp or version in the PNG text chunks: identical input, identical file.
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
