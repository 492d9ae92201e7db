"""The provincial overview's chart as a PNG: participation and acknowledgements per park,
then the province's weeks. Made like the park chart (handlers/chart_style.py): 900 px wide,
the figure on every bar, park names drawn as written (no mathtext). The "phone" layout, for a
phone's browser, is narrower with bigger type, and gives the weeks as rows of bars too: a line
over six weeks has no room for its labels on a narrow image."""

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
from handlers.province import ParkFigures, ProvinceDigest
from handlers.text import whole_percent
from handlers.texts import province as texts

PHONE_NAME = 16  # characters of a park's name on the phone layout ("KCN Bình Xuyên" is 14)
SERIES = (
    (texts.PARTICIPATION, "participation", COLORS["active"]),
    (texts.ACK_RATE, "ack_rate", COLORS["acks"]),
)


def render_province_png(digest: ProvinceDigest, *, dpi: int = DPI, layout: str = "wide") -> bytes:
    """The chart; the same overview and layout always give the same bytes."""
    return png_bytes(build_province_figure(digest, dpi=dpi, layout=layout))


def build_province_figure(digest: ProvinceDigest, *, dpi: int = DPI, layout: str = "wide") -> Any:
    if layout == "phone":
        return _phone_figure(digest, dpi)
    parks = len(digest.parks) or 1
    bars_h, trend_h = 1.1 + 0.42 * parks, 2.6
    height = 2.9 + bars_h + trend_h
    title = texts.CHART_TITLE.format(num=digest.week_number)
    fig = start_figure(height, dpi, title, digest.span())
    # The gap between the panels is a fraction of their mean height: keep it ~1.1 inch.
    grid = fig.add_gridspec(
        2, 1, height_ratios=[bars_h, trend_h], hspace=1.1 / ((bars_h + trend_h) / 2)
    )
    _parks_panel(fig.add_subplot(grid[0, 0]), digest)
    _trend_panel(fig.add_subplot(grid[1, 0]), digest)
    fig.subplots_adjust(left=0.3, right=0.95, top=1 - 1.0 / height, bottom=0.8 / height)
    return fig


def _pct(value: float | None) -> float:
    return 0.0 if value is None else round(100 * value, 1)


def _phone_figure(digest: ProvinceDigest, dpi: int) -> Any:
    """The parks, then the province's weeks, each a row of two bars; no type under 11 pt."""
    weeks = [w for w, _p, _t in digest.trend]
    parks_h = 0.55 + 0.62 * (len(digest.parks) or 1)
    trend_h = 0.55 + 0.62 * (len(weeks) or 1)
    height = 2.7 + parks_h + trend_h
    title = texts.CHART_TITLE.format(num=digest.week_number)
    fig = start_figure(height, dpi, title, digest.span(), width=PHONE_WIDTH_IN)
    grid = fig.add_gridspec(
        2, 1, height_ratios=[parks_h, trend_h], hspace=1.3 / ((parks_h + trend_h) / 2)
    )
    parks = [(clip(p.name, PHONE_NAME), p.figures) for p in digest.parks]
    trend = [(labels.week_label(w).split("/")[0], t) for w, _p, t in digest.trend]
    left, right = 0.42, 0.95
    # Titles and legends from near the image's left edge: a narrow image needs the width.
    edge = -(left - 0.03) / (right - left)
    for at, rows, name in ((0, parks, texts.CHART_PARKS), (1, trend, texts.CHART_TREND)):
        _pair_rows(fig.add_subplot(grid[at, 0]), rows, name, small=FONT - 1, title_at=edge)
    fig.subplots_adjust(left=left, right=right, top=1 - 1.2 / height, bottom=0.9 / height)
    return fig


def _parks_panel(ax: Any, digest: ProvinceDigest) -> None:
    """Two bars per park (participation, ack rate) in percent, top park first."""
    rows = [(clip(p.name, 24), p.figures) for p in digest.parks]
    _pair_rows(ax, rows, texts.CHART_PARKS, small=FONT - 2)


def _pair_rows(
    ax: Any,
    rows: list[tuple[str, ParkFigures]],
    title: str,
    *,
    small: int,
    title_at: float = 0.0,
) -> None:
    """Two bars per row (participation, ack rate) in percent with their figures at their
    ends, the first row on top; `small` sizes the figures and the legend; `title_at` (axes
    fraction) moves the title and the legend left, under the names."""
    n = len(rows)
    height = 0.38
    for k, (label, key, color) in enumerate(SERIES):
        ys = [n - 1 - i + (0.5 - k) * height for i in range(n)]
        values = [getattr(f, key) for _name, f in rows]
        ax.barh(ys, [_pct(v) for v in values], height=height, color=color, label=label)
        for y, v in zip(ys, values, strict=True):
            shown = texts.NONE if v is None else f"{whole_percent(v)}%"
            ax.text(_pct(v) + 2, y, shown, va="center", fontsize=small)
    ax.set_yticks(range(n - 1, -1, -1), [name for name, _f in rows])
    for tick in ax.get_yticklabels():
        tick.set_parse_math(False)
    ax.tick_params(axis="y", labelsize=FONT - 1, length=0)
    ax.set_xlim(0, 120)
    ax.set_xticks([])
    hide_spines(ax, "top", "right", "bottom")
    ax.set_title(title, fontsize=FONT + 1, loc="left").set_x(title_at)
    ax.legend(
        loc="upper left" if title_at else "upper center",
        bbox_to_anchor=(title_at or 0.5, -0.02),
        ncol=2,
        frameon=False,
        fontsize=small,
        handlelength=1,
    )


def _trend_panel(ax: Any, digest: ProvinceDigest) -> None:
    """The province's participation and ack rate week by week, in percent."""
    weeks = [w for w, _p, _t in digest.trend]
    xs = list(range(len(weeks)))
    series = [
        (label, color, [getattr(total, key) for _w, _p, total in digest.trend])
        for label, key, color in (
            (texts.PARTICIPATION, "participation", COLORS["active"]),
            (texts.ACK_RATE, "ack_rate", COLORS["acks"]),
        )
    ]
    for n, (label, color, values) in enumerate(series):
        other = series[1 - n][2]
        # A week with nothing to measure is a gap in the line, not a fall to 0%.
        ax.plot(
            xs,
            [math.nan if v is None else _pct(v) for v in values],
            marker="o",
            color=color,
            label=label,
        )
        for x, v, w in zip(xs, values, other, strict=True):
            if v is not None:  # the higher of the two figures is written above its point
                above = w is None or v > w or (v == w and n == 0)
                y = _pct(v) + (4 if above else -11)
                ax.text(x, y, f"{whole_percent(v)}%", ha="center", fontsize=FONT - 3, color=color)
    ax.set_xticks(xs, [labels.week_label(w).split("/")[0] for w in weeks])
    ax.tick_params(axis="x", labelsize=FONT - 2, length=0)
    ax.set_ylim(0, 118)
    ax.set_yticks([])
    hide_spines(ax, "top", "right", "left")
    ax.set_title(texts.CHART_TREND, fontsize=FONT + 1, loc="left")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False, fontsize=FONT - 2
    )
