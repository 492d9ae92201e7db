"""What the park chart (handlers/digest_chart.py) and the province's chart
(handlers/province_chart.py) share: the size for a phone, the type, the colours, the title,
reproducible PNG bytes.

Made to be read inside a Zalo message on a phone: 900 px wide, type at least 3% of the width.
matplotlib is imported inside `start_figure` so loading the jobs stays cheap; the Agg backend
and the bundled DejaVu Sans (which covers Vietnamese) need no display or download.
"""

from __future__ import annotations

import io
from typing import Any

WIDTH_IN, DPI = 6.0, 150  # 900 px: Zalo shows it at the chat's width without scaling up
FONT = 12  # points: 25 px on a 900 px image, still legible at a phone's ~300 css px
# The dashboard's chart for a phone's browser: a phone shows the page ~340 CSS px wide, so a
# 900 px image's smallest text (11 pt) lands at ~9 CSS px; drawn 540 px wide it is ~14.
PHONE_WIDTH_IN = 3.6
COLORS = {"acks": "#6a1b9a", "checkins": "#1565c0", "reports": "#ef6c00", "active": "#2e7d32"}


def start_figure(
    height: float, dpi: int, title: str, span: tuple[str, str], *, width: float = WIDTH_IN
) -> Any:
    """A white figure `width` inches wide with its bold title and the week's dates (under
    the title on a figure narrower than the chat's, where one line would not fit)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    fig.patch.set_facecolor("white")
    gap = " " if width >= WIDTH_IN else "\n"
    fig.suptitle(f"{title}{gap}({span[0]}–{span[1]})", fontsize=FONT + 3, fontweight="bold")
    return fig


def png_bytes(fig: Any) -> bytes:
    """The PNG; no timestamp or version in its text chunks: identical input, identical file."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def hide_spines(ax: Any, *sides: str) -> None:
    for side in sides:
        ax.spines[side].set_visible(False)


def clip(text: str, limit: int) -> str:
    """A name cut to `limit` characters with an ellipsis, so the bars keep their room."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
