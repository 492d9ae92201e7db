"""The digest's chart as a PNG: one small panel per enterprise, then the weeks' trend.

Made to be read inside a Zalo message on a phone (handlers/chart_style.py): the figure on
every bar, legends outside the data, and no week before the bot's first message. The
dashboard asks a phone's browser for the "phone" layout: narrower, one panel per row and the
weeks as horizontal bars, so its text stays at least 12 CSS px on a 390 px screen.

It lives in handlers/ (not bot/) because the weekly job renders it and handlers never import
bot/.
"""

from __future__ import annotations

import math
from typing import Any

from handlers import labels
from handlers.chart_style import (
    COLORS,
    DPI,
    FONT,
    PHONE_WIDTH_IN,
    clip,
    hide_spines,
    png_bytes,
    start_figure,
)
from handlers.digest import Digest
from handlers.texts import digest as texts
from models.digest import Figures

MAX_PANELS = 8  # enterprises drawn; more is unreadable on a phone (the dashboard lists them all)
NO_ENTERPRISE = "Chưa rõ doanh nghiệp"
ACKS = "Xác nhận"
TREND = "Các tuần gần đây"
PEOPLE = "{active}/{members} người tham gia"
PEOPLE_ON_LEAVE = " · {n} nghỉ phép"  # apart, as the text and the JSON show them
PHONE_NAME = 30  # characters of an enterprise's name on the phone layout (18 on the wide)
LAYOUTS = ("wide", "phone")  # the chat's and the dashboard's 900 px; a phone's browser


def render_png(digest: Digest, *, dpi: int = DPI, layout: str = "wide") -> bytes:
    """The chart; the same digest and layout always give the same bytes."""
    return png_bytes(build_figure(digest, dpi=dpi, layout=layout))


def build_figure(digest: Digest, *, dpi: int = DPI, layout: str = "wide") -> Any:
    """The matplotlib Figure behind the PNG (tests read its texts and layout)."""
    if layout == "phone":
        return _phone_figure(digest, dpi)
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


def _phone_figure(digest: Digest, dpi: int) -> Any:
    """The same panels one per row, names less clipped, and the weeks as horizontal bars:
    on a narrow image the week groups' figures would collide side by side."""
    panels = _panels(digest)
    trend = _trend(digest)
    rows = max(1, len(panels))
    trend_h = 0.7 + 0.95 * len(trend) if trend else 0.0
    height = 1.3 + rows * 1.7 + (trend_h + 0.9 if trend else 0)
    title = texts.CHART_TITLE.format(num=digest.week_number)
    fig = start_figure(height, dpi, title, digest.span(), width=PHONE_WIDTH_IN)
    grid = fig.add_gridspec(
        rows + (1 if trend else 0),
        1,
        height_ratios=[1.7] * rows + ([trend_h] if trend else []),
        hspace=0.8 / ((rows * 1.7 + trend_h) / (rows + (1 if trend else 0))),
    )
    if panels:
        top = max([1, *(max(f.acks, f.checkins, f.reports) for _n, f in panels)])
        for n, (name, f) in enumerate(panels):
            # The name starts at the image's left edge, over the labels: it gets the width.
            _enterprise(fig.add_subplot(grid[n, 0]), name, f, top, limit=PHONE_NAME, name_at=-0.4)
    else:
        ax = fig.add_subplot(grid[0, 0])
        ax.text(0.5, 0.5, texts.CHART_EMPTY, ha="center", va="center", fontsize=FONT + 1)
        ax.set_axis_off()
    if trend:
        _trend_rows(fig.add_subplot(grid[rows, 0]), trend)
    fig.subplots_adjust(left=0.3, right=0.95, top=1 - 1.2 / height, bottom=1.0 / height)
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


def _enterprise(
    ax: Any, name: str, f: Figures, top: int, *, limit: int = 18, name_at: float = 0.0
) -> None:
    """Three bars (acks, check-ins, reports), each with its figure written at its end; the
    name `limit` characters at most, starting `name_at` (axes fraction) left of the bars."""
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
    title = ax.set_title(
        clip(name, limit), fontsize=FONT, loc="left", fontweight="bold", parse_math=False
    )
    title.set_x(name_at)
    people = PEOPLE.format(active=f.active, members=f.members)
    if f.on_leave:
        people += PEOPLE_ON_LEAVE.format(n=f.on_leave)
    ax.set_xlabel(people, fontsize=FONT - 1, loc="left")


def _series(trend: list[tuple[str, Figures]]) -> tuple[tuple[str, str, list[int]], ...]:
    """The trend's three series: label, colour key, one value per week."""
    return (
        (texts.CHART_ACTIVE, "active", [f.active for _w, f in trend]),
        (texts.CHART_CHECKINS, "checkins", [f.checkins for _w, f in trend]),
        (texts.CHART_REPORTS, "reports", [f.reports for _w, f in trend]),
    )


def _week_names(trend: list[tuple[str, Figures]]) -> list[str]:
    return [labels.week_label(w).split("/")[0] for w, _f in trend]


def _trend_panel(ax: Any, trend: list[tuple[str, Figures]]) -> None:
    """Grouped bars per week with their figures on top; the legend sits under the axis."""
    series = _series(trend)
    width = 0.26
    top = max([1, *(v for _l, _k, vs in series for v in vs)])
    for n, (label, key, values) in enumerate(series):
        xs = [i + (n - 1) * width for i in range(len(trend))]
        ax.bar(xs, values, width=width, color=COLORS[key], label=label)
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v + top * 0.03, str(v), ha="center", va="bottom", fontsize=FONT - 1)
    ax.set_xticks(range(len(trend)), _week_names(trend))
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


def _trend_rows(ax: Any, trend: list[tuple[str, Figures]]) -> None:
    """The weeks top to bottom, oldest first, each three bars with their figures at their
    ends; the legend under the bars, two entries a row so it fits a narrow image."""
    series = _series(trend)
    height = 0.26
    top = max([1, *(v for _l, _k, vs in series for v in vs)])
    weeks = len(trend)
    for n, (label, key, values) in enumerate(series):
        ys = [weeks - 1 - i + (1 - n) * height for i in range(weeks)]
        ax.barh(ys, values, height=height, color=COLORS[key], label=label)
        for y, v in zip(ys, values, strict=True):
            ax.text(v + top * 0.03, y, str(v), va="center", fontsize=FONT - 1)
    ax.set_yticks(range(weeks - 1, -1, -1), _week_names(trend))
    ax.tick_params(axis="y", labelsize=FONT - 1, length=0)
    ax.set_xlim(0, top * 1.3)
    ax.set_ylim(-0.55, weeks - 0.45)
    ax.set_xticks([])
    hide_spines(ax, "top", "right", "bottom")
    ax.set_title(TREND, fontsize=FONT + 1, loc="left").set_x(-0.4)  # as the names above
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(-0.4, -0.02),
        ncol=2,
        frameon=False,
        fontsize=FONT - 1,
        handlelength=1,
        columnspacing=1,
    )
