"""Issue 16.3-4: one word for a thing everywhere. Every category, incident state, severity,
role and directive state is walked through each surface that shows it: the digest's chat
text, the dashboard's filters, the digest workbook and the conversation's own tables."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from pkgutil import iter_modules
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dashboard.render import environment
from bot.export import VALUE_LABELS, digest_xlsx
from handlers import labels
from handlers.digest import Digest, build_digest, incident_line
from handlers.texts import digest as digest_texts
from handlers.texts import identity as identity_texts
from handlers.texts import incidents as incident_texts
from models import digest as q
from models.db import make_engine, make_sessionmaker, upgrade

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=VN)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    await upgrade(engine)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def incident(pk: int, category: str, status: str, severity: str = "medium") -> q.IncidentLine:
    at = NOW - timedelta(days=3)
    return q.IncidentLine(
        id=pk,
        category=category,
        severity=severity,
        status=status,
        places=["kho 1"],
        place_items=[{"kind": "warehouse", "code": "1", "text": "kho 1"}],
        reported_at=at,
        acknowledged_at=None,
        resolved_at=None,
        reporters=["Lê Văn Cường"],
        handler=None,
        outcome=None,
        reports=1,
    )


async def empty_week(sessions: async_sessionmaker[AsyncSession], make_settings: Any) -> Digest:
    async with sessions() as s:
        return await build_digest(s, make_settings(), "2026-W49", NOW)


def workbook_column(d: Digest, sheet: str, header: str) -> list[Any]:
    book = openpyxl.load_workbook(io.BytesIO(digest_xlsx(d)))
    rows = [[c.value for c in r] for r in book[sheet].iter_rows()]
    at = rows[0].index(header)
    return [r[at] for r in rows[1:]]


async def test_every_category_reads_the_same_in_chat_page_and_spreadsheet(
    sessions: Any, make_settings: Any
) -> None:
    d = await empty_week(sessions, make_settings)
    cats = list(labels.CATEGORY)
    d.incidents = [incident(n, c, "open") for n, c in enumerate(cats, start=1)]
    d.totals.reports_by_category = dict.fromkeys(cats, 1)
    d.totals.reports = len(cats)
    page = environment().filters["cat"]
    text = d.render_text()
    sheet = workbook_column(d, "Sự việc", "Loại")
    book = openpyxl.load_workbook(io.BytesIO(digest_xlsx(d)))
    totals = [r[0].value for r in book["Tổng hợp"].iter_rows(min_row=2)]
    for n, cat in enumerate(cats):
        word = labels.CATEGORY[cat]
        assert incident_texts.CATEGORY[cat] == digest_texts.CATEGORY[cat] == word
        assert f"{word} 1" in text, cat  # the reports' breakdown in the chat
        assert f" {word} ở kho 1" in incident_line(d.incidents[n]), cat
        assert page(cat) == word
        assert sheet[n] == word
        assert f"Báo cáo: {word}" in totals


async def test_every_incident_state_and_severity_reads_the_same_everywhere(
    sessions: Any, make_settings: Any
) -> None:
    d = await empty_week(sessions, make_settings)
    states = list(labels.INCIDENT_STATE_AT)
    severities = list(labels.SEVERITY)
    d.incidents = [
        incident(n, "fire", state, severities[n % len(severities)])
        for n, state in enumerate(states, start=1)
    ]
    env = environment()
    in_sheet = workbook_column(d, "Sự việc", "Trạng thái")
    sev_sheet = workbook_column(d, "Sự việc", "Mức độ")
    for n, state in enumerate(states):
        word = labels.INCIDENT_STATE_AT[state]
        assert incident_line(d.incidents[n]).endswith(f": {word}"), state
        assert env.filters["outcome"](state) == word
        assert in_sheet[n] == word
        if state in incident_texts.STATUS:  # the words the bot says in chat about one incident
            assert incident_texts.STATUS[state] == labels.INCIDENT_STATUS[state] == word
            assert env.filters["incident_state"](state) == word
        sev = d.incidents[n].severity
        assert sev_sheet[n] == labels.SEVERITY[sev] == env.filters["sev"](sev)
    assert digest_texts.SEVERITY is labels.SEVERITY
    assert labels.INCIDENT_STATE_AT["open"] == labels.INCIDENT_STATUS["reported"]


def test_roles_directive_states_and_outbox_kinds_have_one_table() -> None:
    env = environment()
    assert digest_texts.ROLE is labels.ROLE and digest_texts.STATUS is labels.STATUS
    for role, word in identity_texts.ROLE_WORDS.items():  # what the chat calls a role
        assert labels.ROLE[role] == word == env.filters["role"](role)
    assert VALUE_LABELS["members"]["role"] is labels.ROLE
    for state, word in labels.DIRECTIVE_STATUS.items():
        assert env.filters["state"](state) == word
    assert env.filters["state"]("cancelled") == "đã hủy"
    assert VALUE_LABELS["outbox"]["kind"] is labels.OUTBOX_KIND
    # No second outbox-kind table hides in the texts: every module's dicts are checked.
    for name, table in text_tables():
        if table is not labels.OUTBOX_KIND:
            assert not {"digest_chart", "nudge", "reminder"} <= set(table), name


def text_tables() -> list[tuple[str, dict[Any, Any]]]:
    """Every dict at the top of a handlers/texts module, by its module and name."""
    import handlers.texts as pkg

    found = []
    for info in iter_modules(pkg.__path__):
        module = import_module(f"handlers.texts.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, dict):
                found.append((f"{info.name}.{name}", value))
    return found


def test_every_timeline_step_has_one_name_in_chat_and_on_the_page() -> None:
    """/baocao SV<số> and the incident page name each step from labels.EVENT, and every step
    the code records (add_event's kinds, found in the source) has a name there."""
    page = environment().filters["event"]
    for kind, word in labels.EVENT.items():
        assert incident_texts.timeline_line("10:00", kind, "", "") == f"  10:00 {word}", kind
        assert page(kind) == word
    handlers_dir = Path(__file__).resolve().parents[1] / "handlers"
    recorded: set[str] = set(labels.INCIDENT_STATUS)  # status.py records the new state
    for path in handlers_dir.rglob("*.py"):
        for call in re.findall(r"add_event\((.*?)\)\n", path.read_text("utf-8"), re.S):
            recorded.update(re.findall(r'"([a-z_]+)"', call))
    assert {"report", "merged", "alert_held", "withdrawn"} <= recorded  # the scan finds them
    assert recorded <= set(labels.EVENT), recorded - set(labels.EVENT)
    for name, table in text_tables():  # no second timeline table hides in the texts
        if table is not labels.EVENT:
            assert not {"escalation_done", "withdrawn", "corrected"} <= set(table), name


def test_every_dashboard_page_is_named_as_its_menu_names_it() -> None:
    """The menu's word for a page is the page's title and heading: the reports page read
    "Báo cáo" in the menu, "Sự việc" in the browser tab and "Sự việc được báo" on the page,
    the incidents page's own name."""
    templates = Path(__file__).parent.parent / "bot" / "dashboard" / "templates"
    menu = dict(
        re.findall(
            r'<a href="/dashboard/(\w+)" [^>]*>([^<]+)</a>', (templates / "base.html").read_text()
        )
    )
    checked = 0
    for page, name in menu.items():
        path = templates / f"{page}.html"
        if not path.exists():
            continue
        text = path.read_text()
        title = re.search(r"{% block title %}(.*?){% endblock %}", text)
        heading = re.search(r"<h1>(.*?)</h1>", text)
        if title is None or heading is None:
            continue
        # A page may say more after its name ("Toàn tỉnh tuần 49"), never another name.
        assert title.group(1).startswith(name) and heading.group(1).startswith(name), page
        checked += 1
    assert checked >= 4
