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
COLORS = {"acks": "#6a1b9a", "checkins": "#1565c0", "reports": "#ef6c00", "active": "#2e7d32"}


def start_figure(height: float, dpi: int, title: str, span: tuple[str, str]) -> Any:
    """A white figure of the chart's width with its bold title and the week's dates."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height), dpi=dpi)
    fig.patch.set_facecolor("white")
    fig.suptitle(f"{title} ({span[0]}–{span[1]})", fontsize=FONT + 3, fontweight="bold")
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
