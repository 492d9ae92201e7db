"""Exports for people in Vietnamese, one label per value everywhere, the chart (issue 16.3-4)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dashboard.render import digest_html
from bot.export import digest_xlsx
from handlers import labels
from handlers.digest import build_digest
from handlers.digest_chart import MAX_PANELS, build_figure, render_png
from handlers.texts import digest as digest_texts
from handlers.texts import incidents as incident_texts
from models import exports
from models.db import make_engine, make_sessionmaker, upgrade
from tests.digest_factory import END, WEEK, Factory, day, scenario
from tests.engagement_helpers import GROUPS, ROSTER

ROOT = Path(__file__).resolve().parents[1]
AFTER = END + timedelta(days=1)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_export_for_people_in_vietnamese_en_on_request_jsonl_keeps_keys(tmp_path: Path) -> None:
    config = {"database": {"url": "sqlite+aiosqlite:///data/antt.db"}, "groups": GROUPS}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    assert cli("members", "import", "roster.csv", cwd=tmp_path).returncode == 0

    xlsx = tmp_path / "m.xlsx"
    proc = cli("export", "members", "--format", "xlsx", "-o", str(xlsx), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None and sheet.title == "Thành viên"
    header = [c.value for c in sheet[1]]
    assert header == exports.headers("members") and "Vai trò" in header and "Họ tên" in header
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(2)]
    quan = next(r for r in rows if r["Họ tên"] == "Phạm Minh Quân")
    assert quan["Vai trò"] == "điều phối viên" and quan["Tư cách"] == "thành viên"

    out = tmp_path / "m.csv"
    proc = cli("export", "members", "--format", "csv", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert table[0][:2] == ["Mã thành viên", "Họ tên"] and "điều phối viên" in table[1]

    proc = cli("export", "members", "--format", "csv", "--lang", "en", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert table[0][:3] == ["Member id", "Name", "Phone"] and "coordinator" in table[1]

    lines = cli("export", "members", cwd=tmp_path).stdout.splitlines()
    first = json.loads(lines[0])
    assert list(first) == list(exports.COLUMNS["members"]) and first["role"] == "coordinator"
    bad = cli("export", "members", "--lang", "fr", cwd=tmp_path)
    assert bad.returncode == 2 and "--lang" in bad.stderr


def test_csv_for_a_vietnamese_excel_is_asked_for_with_sep_semicolon(tmp_path: Path) -> None:
    """Excel on a Windows set to Vietnam (decimal comma) splits CSV at semicolons: the comma
    file opened as one column. `--sep semicolon` writes what it reads; commas stay the
    default (RFC 4180: LibreOffice, Google Sheets, scripts)."""
    config = {"database": {"url": "sqlite+aiosqlite:///data/antt.db"}, "groups": GROUPS}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    assert cli("members", "import", "roster.csv", cwd=tmp_path).returncode == 0
    out = tmp_path / "m.csv"
    proc = cli(
        "export", "members", "--format", "csv", "--sep", "semicolon", "-o", str(out), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    raw = out.read_text("utf-8")
    assert raw.startswith("\ufeffMã thành viên;Họ tên;Số điện thoại;"), raw[:80]
    table = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";"))
    assert {len(row) for row in table} == {len(exports.COLUMNS["members"])}
    quan = next(row for row in table if row[1] == "Phạm Minh Quân")
    assert "gcouncil; gdienquang; ghansol; gmayviet" in quan  # the list in one cell, quoted
    assert cli("export", "members", "--format", "csv", cwd=tmp_path).stdout.startswith(
        "\ufeffMã thành viên,Họ tên,"
    )
    bad = cli("export", "members", "--format", "csv", "--sep", "tab", cwd=tmp_path)
    assert bad.returncode == 2 and "--sep" in bad.stderr and "semicolon" in bad.stderr


def test_every_export_column_has_a_vietnamese_header() -> None:
    for kind in exports.KINDS:
        names = exports.headers(kind)
        missing = [c for c, n in zip(exports.COLUMNS[kind], names, strict=True) if c == n]
        assert not missing, f"{kind}: no Vietnamese header for {missing}"
        assert len(set(names)) == len(names), f"{kind}: two columns share a header"


def test_one_label_per_category_in_chat_digest_pages_and_spreadsheets() -> None:
    assert incident_texts.CATEGORY is labels.CATEGORY
    assert digest_texts.CATEGORY is labels.CATEGORY
    assert labels.CATEGORY["fire"] == "cháy/nổ" and labels.INCIDENT_STATUS["handling"] == (
        "đang xử lý"
    )
    assert labels.week_label("2026-W47") == "Tuần 47/2026"
    # Every status the incident code can set has a word (models/incidents.py OPEN + CLOSED).
    from models.incidents import CLOSED, OPEN

    assert set(OPEN) | set(CLOSED) <= set(labels.INCIDENT_STATUS)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    await upgrade(engine)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_the_chart_has_a_panel_per_enterprise_values_on_bars_and_no_empty_weeks(
    sessions: Any, make_settings: Any
) -> None:
    async with sessions() as s, s.begin():
        rows = await scenario(s)
        f = Factory(s)
        for n in range(MAX_PANELS + 2):  # more enterprises than a phone can show
            m = await f.member(
                f"x{n}", f"Người {n}", enterprise=f"Cty {n:02d}", groups=(rows["g1"],)
            )
            for k in range(n):
                await f.checkin(m, day(k % 6))
    async with sessions() as s:
        d = await build_digest(s, make_settings(), WEEK, AFTER)
    fig = build_figure(d)
    assert fig.get_size_inches()[0] * fig.dpi == 900  # phone width, no downscaling in Zalo
    panels = [ax for ax in fig.axes if ax.get_title(loc="left") not in ("", "Các tuần gần đây")]
    assert len(panels) == MAX_PANELS
    # Busiest first; every bar carries its figure; acks read "acked/expected".
    assert panels[0].get_title(loc="left") == "Cty 09"
    by_name = dict(d.enterprises)
    for ax in panels:
        figures = by_name[ax.get_title(loc="left")]
        shown = [t.get_text() for t in ax.texts]
        assert shown[1:] == [str(figures.checkins), str(figures.reports)]
    may_viet = next(ax for ax in panels if ax.get_title(loc="left") == "May Việt")
    assert "2/3" in [t.get_text() for t in may_viet.texts]
    (trend,) = [ax for ax in fig.axes if ax.get_title(loc="left") == "Các tuần gần đây"]
    weeks = [t.get_text() for t in trend.get_xticklabels()]
    assert weeks == ["Tuần 47", "Tuần 48"]  # the scenario's first message is in week 47
    values = {t.get_text() for t in trend.texts}
    assert str(d.totals.checkins) in values
    # The legend sits below the plotting area, never over a bar.
    renderer = FigureCanvasAgg(fig).get_renderer()
    legend = trend.get_legend().get_window_extent(renderer)
    assert legend.y1 <= trend.get_window_extent(renderer).y0
    png = render_png(d)
    assert png.startswith(b"\x89PNG") and png == render_png(d)  # same digest, same bytes


async def test_the_digest_workbook_names_weeks_and_categories_in_vietnamese(
    sessions: Any, make_settings: Any
) -> None:
    async with sessions() as s, s.begin():
        await scenario(s)
    async with sessions() as s:
        d = await build_digest(s, make_settings(), WEEK, AFTER)
    book = openpyxl.load_workbook(io.BytesIO(digest_xlsx(d)))
    sheet = book["Tổng hợp"]
    assert [c.value for c in sheet[1]] == ["Chỉ số", "Tuần 48/2026", "Tuần 47/2026"]
    names = [r[0].value for r in sheet.iter_rows(2)]
    assert "Báo cáo: cháy/nổ" in names and "Báo cáo: fire" not in names


async def test_a_member_without_a_name_is_named_by_id_on_the_page_and_in_the_workbook(
    sessions: Any, make_settings: Any
) -> None:
    """The chat text names a nameless member by id; the page and the workbook did not."""
    async with sessions() as s, s.begin():
        rows = await scenario(s)
        f = Factory(s)
        busy = await f.member("z-busy", "", enterprise="Cty Không Tên", groups=(rows["g1"],))
        await f.member("z-quiet", "", enterprise="Cty Không Tên", groups=(rows["g1"],))
        for n in range(6):
            await f.checkin(busy, day(n))
        await f.message(busy, day(1), "g1")
    async with sessions() as s:
        d = await build_digest(s, make_settings(), WEEK, AFTER)
    text = d.render_text()
    assert "z-busy (Cty Không Tên)" in text and "z-quiet (Cty Không Tên)" in text
    html = digest_html(d, None)
    assert "<li>z-busy <span" in html and "<td>z-quiet</td>" in html
    book = openpyxl.load_workbook(io.BytesIO(digest_xlsx(d)))
    top = {r[0].value: r[1].value for r in book["Tích cực"].iter_rows(2)}
    quiet = {r[0].value: r[1].value for r in book["Chưa hoạt động"].iter_rows(2)}
    assert top["z-busy"] == "z-busy" and quiet["z-quiet"] == "z-quiet"


async def test_check_in_kinds_have_the_same_words_in_exports_and_the_shift_table(
    sessions: Any, make_settings: Any
) -> None:
    """An attendance check-in was "điểm danh" in the CSV, "Có mặt" in the shift table."""
    async with sessions() as s, s.begin():
        await scenario(s)
    async with sessions() as s:
        d = await build_digest(s, make_settings(), WEEK, AFTER)
    book = openpyxl.load_workbook(io.BytesIO(digest_xlsx(d)))
    kinds = [str(c.value).lower() for c in book["Theo ca"][1][6:10]]
    assert kinds == [labels.CHECKIN_KIND[k] for k in ("attendance", "shift", "shift_end", "patrol")]
    html = digest_html(d, None)
    assert "<th>Có mặt</th><th>Vào ca</th><th>Hết ca</th><th>Tuần tra</th>" in html


async def test_quiet_weeks_after_the_bot_was_in_use_are_zeros_in_the_trend_not_left_out(
    sessions: Any, make_settings: Any
) -> None:
    """Three silent weeks (Tết) then one check-in: the trend showed only that week."""
    async with sessions() as s, s.begin():
        rows = await scenario(s)  # weeks 47 and 48
        await Factory(s).checkin(rows["a"], day(35))  # Monday 28/12 (week 53); 50-52 silent
    async with sessions() as s:
        d = await build_digest(s, make_settings(), "2026-W53", AFTER + timedelta(days=35))
    (trend,) = [ax for ax in build_figure(d).axes if ax.get_title(loc="left") == "Các tuần gần đây"]
    weeks = [t.get_text() for t in trend.get_xticklabels()]
    assert weeks == ["Tuần 50", "Tuần 51", "Tuần 52", "Tuần 53"]


async def test_the_week_across_new_year_gives_the_year_of_both_days(
    sessions: Any, make_settings: Any
) -> None:
    """Week 53/2026 read "(28/12–03/01/2027)": 28/12 of which year? Text, page, chart agree."""
    async with sessions() as s, s.begin():
        await scenario(s)
    async with sessions() as s:
        d = await build_digest(s, make_settings(), "2026-W53", AFTER + timedelta(days=42))
        w48 = await build_digest(s, make_settings(), WEEK, AFTER)
    assert d.span() == ("28/12/2026", "03/01/2027") and w48.span() == ("23/11", "29/11/2026")
    assert "(28/12/2026–03/01/2027)" in d.render_text().splitlines()[0]
    assert "(28/12/2026–03/01/2027)" in digest_html(d, None)
    assert "(28/12/2026–03/01/2027)" in build_figure(d).texts[-1].get_text()


async def test_open_incidents_have_one_name_in_the_digest_the_page_and_the_daily_summary(
    sessions: Any, make_settings: Any
) -> None:
    """The digest said "còn mở", the daily summary and /baocao "đang mở" for the same thing."""
    from handlers.texts import requests as request_texts

    assert request_texts.SUMMARY_INCIDENTS.startswith("🚨 Sự việc đang mở")
    async with sessions() as s, s.begin():
        await scenario(s)
    async with sessions() as s:
        d = await build_digest(s, make_settings(), WEEK, AFTER)
    assert "📌 Sự việc đang mở: 2 (" in d.render_text()
    html = digest_html(d, None)
    assert "<span>sự việc đang mở</span>" in html and "còn mở" not in html
