"""The digest's chart as a PNG: one small panel per enterprise, then the weeks' trend.

Made to be read inside a Zalo message on a phone (handlers/chart_style.py): the figure on
every bar, legends outside the data, and no week before the bot's first message.

It lives in handlers/ (not bot/) because the weekly job renders it and handlers never import
bot/.
"""

from __future__ import annotations

import math
from typing import Any

from handlers import labels
from handlers.chart_style import COLORS, DPI, FONT, clip, hide_spines, png_bytes, start_figure
from handlers.digest import Digest
from handlers.texts import digest as texts
from models.digest import Figures

MAX_PANELS = 8  # enterprises drawn; more is unreadable on a phone (the dashboard lists them all)
NO_ENTERPRISE = "Chưa rõ doanh nghiệp"
ACKS = "Xác nhận"
TREND = "Các tuần gần đây"
PEOPLE = "{active}/{members} người tham gia"
PEOPLE_ON_LEAVE = " · {n} nghỉ phép"  # apart, as the text and the JSON show them


def render_png(digest: Digest, *, dpi: int = DPI) -> bytes:
    """The chart; the same digest always gives the same bytes."""
    return png_bytes(build_figure(digest, dpi=dpi))


def build_figure(digest: Digest, *, dpi: int = DPI) -> Any:
    """The matplotlib Figure behind the PNG (tests read its texts and layout)."""
    panels = _panels(digest)
    trend = _trend(digest)
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols) if panels else 1
    height = 0.9 + rows * 1.55 + (2.6 if trend else 0)
    title = texts.CHART_TITLE.format(num=digest.week_number)
    fig = start_figure(height, dpi, title, digest.span())
    grid = fig.add_gridspec(
        rows + (1 if trend else 0),
        cols,
        height_ratios=[1.55] * rows + ([2.6] if trend else []),
        hspace=0.75,
        wspace=0.55,
    )
    if panels:
        # One scale for every panel, so a longer bar always means more.
        top = max([1, *(max(f.acks, f.checkins, f.reports) for _n, f in panels)])
        for n, (name, f) in enumerate(panels):
            _enterprise(fig.add_subplot(grid[n // cols, n % cols]), name, f, top)
    else:
        ax = fig.add_subplot(grid[0, :])
        ax.text(0.5, 0.5, texts.CHART_EMPTY, ha="center", va="center", fontsize=FONT + 1)
        ax.set_axis_off()
    if trend:
        _trend_panel(fig.add_subplot(grid[rows, :]), trend)
    fig.subplots_adjust(left=0.2, right=0.93, top=1 - 0.75 / height, bottom=0.85 / height)
    return fig


def _panels(digest: Digest) -> list[tuple[str, Figures]]:
    """Enterprises with members, busiest first; groups when no enterprise is known."""
    rows = [(name or NO_ENTERPRISE, f) for name, f in digest.enterprises if f.members]
    if not rows:
        rows = [(g.name, f) for g, f in digest.groups if f.members]
    rows.sort(key=lambda r: (-(r[1].acks + r[1].checkins + r[1].reports), r[0]))
    return rows[:MAX_PANELS]


def _trend(digest: Digest) -> list[tuple[str, Figures]]:
    """The trend from the first week the bot saw anything: earlier weeks are not 'zero'.
    Quiet weeks after the bot was in use (a holiday) are zeros, shown as such."""
    weeks = list(digest.trend)
    while (
        weeks
        and not digest.used_before
        and not (weeks[0][1].messages or weeks[0][1].checkins or weeks[0][1].reports)
    ):
        weeks.pop(0)
    return weeks


def _enterprise(ax: Any, name: str, f: Figures, top: int) -> None:
    """Three bars (acks, check-ins, reports), each with its figure written at its end."""
    values = [f.acks, f.checkins, f.reports]
    shown = [f"{f.acks}/{f.expected_acks}" if f.expected_acks else "–", str(f.checkins)]
    shown.append(str(f.reports))
    at = [2, 1, 0]  # top to bottom, in reading order
    colors = [COLORS["acks"], COLORS["checkins"], COLORS["reports"]]
    ax.barh(at, values, color=colors, height=0.7)
    for y, v, text in zip(at, values, shown, strict=True):
        ax.text(v + top * 0.04, y, text, va="center", fontsize=FONT, fontweight="bold")
    # Names are drawn as written: with mathtext a name like "Giá $5 và $6" is read as a
    # formula, and "$\\frac{" stops the chart (issue 13). Per label, not rcParams.
    ax.set_yticks(at, [ACKS, texts.CHART_CHECKINS, texts.CHART_REPORTS])
    ax.tick_params(axis="y", labelsize=FONT - 1, length=0)
    ax.set_xlim(0, top * 1.6)
    ax.set_xticks([])
    hide_spines(ax, "top", "right", "bottom")
    ax.set_title(clip(name, 18), fontsize=FONT, loc="left", fontweight="bold", parse_math=False)
    people = PEOPLE.format(active=f.active, members=f.members)
    if f.on_leave:
        people += PEOPLE_ON_LEAVE.format(n=f.on_leave)
    ax.set_xlabel(people, fontsize=FONT - 1, loc="left")


def _trend_panel(ax: Any, trend: list[tuple[str, Figures]]) -> None:
    """Grouped bars per week with their figures on top; the legend sits under the axis."""
    series = (
        (texts.CHART_ACTIVE, "active", [f.active for _w, f in trend]),
        (texts.CHART_CHECKINS, "checkins", [f.checkins for _w, f in trend]),
        (texts.CHART_REPORTS, "reports", [f.reports for _w, f in trend]),
    )
    width = 0.26
    top = max([1, *(v for _l, _k, vs in series for v in vs)])
    for n, (label, key, values) in enumerate(series):
        xs = [i + (n - 1) * width for i in range(len(trend))]
        ax.bar(xs, values, width=width, color=COLORS[key], label=label)
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v + top * 0.03, str(v), ha="center", va="bottom", fontsize=FONT - 1)
    ax.set_xticks(range(len(trend)), [labels.week_label(w).split("/")[0] for w, _f in trend])
    ax.tick_params(axis="x", labelsize=FONT - 1, length=0)
    ax.set_ylim(0, top * 1.25)
    ax.set_yticks([])
    hide_spines(ax, "top", "right", "left")
    ax.set_title(TREND, fontsize=FONT + 1, loc="left")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=3,
        frameon=False,
        fontsize=FONT - 1,
        handlelength=1,
        columnspacing=1,
    )
