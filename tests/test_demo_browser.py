"""`antt-bot demo` in a real browser (Debian chromium), and the README's first command."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo import data
from handlers.jobs import load_all
from handlers.registry import HANDLERS
from tests.browser import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
URL_LINE = re.compile(r"ANTT Bot demo: (http://\S+)/demo")

pytestmark = pytest.mark.browser


class DemoProcess:
    """`antt-bot demo` as a child process; its stdout is read on a thread."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self._lines.put(line)

    def wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            match = URL_LINE.search(line)
            if match:
                return match.group(1)
        raise AssertionError("the demo printed no URL:\n" + "".join(self.output))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._reader.join(timeout=5)  # it ends at end of output; then the pipe can be closed
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "data"
    proc = DemoProcess(
        [
            sys.executable,
            "-m",
            "bot",
            "demo",
            "--no-browser",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
    )
    try:
        yield proc.wait_for_url(60), data_dir
    finally:
        assert proc.stop() == 0, "".join(proc.output)


@contextlib.asynccontextmanager
async def shot_on_failure(pg: Any, name: str) -> AsyncIterator[None]:
    """Keep a screenshot of the page in test-artifacts/ when the block fails."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        await pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
async def page(chromium: str) -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 420, "height": 860}, locale="vi-VN")
        pg = await context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield pg
        finally:
            await browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"


def outbox(data_dir: Path, kind: str) -> list[tuple[str, str]]:
    """(chat_id, text) of the sent messages of one kind, straight from the demo's database."""
    with sqlite3.connect(data_dir / data.DB_FILE) as db:
        rows = db.execute(
            "SELECT chat_id, text FROM outbox WHERE kind = ? AND status = 'sent' ORDER BY id",
            (kind,),
        ).fetchall()
    return [(str(c), str(t)) for c, t in rows]


def who_sees(chat_id: str) -> str:
    """A seeded member who can open this chat (a private chat's id is its member's id)."""
    for member in data.members():
        if member.member_id == chat_id or chat_id in member.groups:
            return member.member_id
    raise AssertionError(f"no demo member sees {chat_id}")


async def open_chat(pg: Any, member_id: str, chat_id: str) -> None:
    await pg.select_option("#who", member_id)
    await pg.click(f'.chat-tab[data-chat="{chat_id}"]')


async def test_fire_report_then_a_week_later(demo_server: tuple[str, Path], page: Any) -> None:
    async with shot_on_failure(page, "demo_fire_report_then_a_week_later"):
        await fire_report_then_a_week_later(page, *demo_server)


async def fire_report_then_a_week_later(pg: Any, base: str, data_dir: Path) -> None:
    await pg.goto(f"{base}/demo")
    await pg.wait_for_selector(".chat-tab")
    await open_chat(pg, "demo-lan", "demo-lan")
    await pg.fill("#text", "Cháy ở xưởng 2")
    await pg.click("#send")
    await pg.locator(".msg.mine .text", has_text="Cháy ở xưởng 2").wait_for(timeout=10_000)
    await pg.locator(".msg.bot .text").first.wait_for(timeout=15_000)
    if "incident" in HANDLERS:  # the coordinator's alert lands in his private chat
        await open_chat(pg, "demo-quan", "demo-quan")
        await pg.locator(".msg.bot .text", has_text="xưởng 2").first.wait_for(timeout=15_000)

    # A plain group line is shown, marked as unseen by the bot.
    await open_chat(pg, "demo-tung", data.COUNCIL)
    await pg.fill("#text", "Mọi người ăn trưa chưa?")
    await pg.press("#text", "Enter")
    await pg.locator(".msg.mine .unseen").wait_for(timeout=10_000)

    before = await pg.text_content("#bot-time")
    await pg.click('.clock-buttons button[data-minutes="10080"]')
    status = pg.locator("#status", has_text="Bây giờ là")
    await status.wait_for(timeout=120_000)
    assert await pg.text_content("#bot-time") != before

    jobs = load_all()
    for job, kind in (("nudges", "nudge"), ("weekly_digest", "digest")):
        if job not in jobs:
            continue
        sent = outbox(data_dir, kind)
        assert sent, f"no {kind} was sent after a week"
        chat_id, text = sent[-1]
        await open_chat(pg, who_sees(chat_id), chat_id)
        first_line = text.splitlines()[0].strip()
        await pg.locator(".msg.bot .text", has_text=first_line).first.wait_for(timeout=10_000)


REHEARSAL_ROSTER = """member_id,name,phone,enterprise,role,groups
z-anh,Nguyễn Văn Anh,0987000001,Ban quản lý KCN Tân Bình,coordinator,g-tanbinh
,Lò Thị Bé,0987000002,Cty Dệt Đồng Nai,member,g-tanbinh
"""


async def test_rehearsal_roster_in_the_member_picker(tmp_path: Path, page: Any) -> None:
    """`antt-bot demo --roster FILE`: the picker offers our own people, and one is answered."""
    (tmp_path / "roster.csv").write_text(REHEARSAL_ROSTER, encoding="utf-8")
    argv = [sys.executable, "-m", "bot", "demo", "--no-browser", "--port", "0"]
    proc = DemoProcess([*argv, "--roster", "roster.csv"], cwd=tmp_path, env=_env())
    try:
        base = proc.wait_for_url(60)
        async with shot_on_failure(page, "demo_rehearsal_roster"):
            await page.goto(f"{base}/demo")
            await page.wait_for_selector(".chat-tab")
            names = await page.locator("#who option").all_text_contents()
            assert len(names) == 2 and all("Lò Thị Bé" in n or "Nguyễn Văn Anh" in n for n in names)
            await open_chat(page, "demo-line3", "demo-line3")
            await page.fill("#text", "có mặt")
            await page.click("#send")
            bot = page.locator(".msg.bot .text", has_text="Đã ghi nhận anh/chị Bé có mặt")
            await bot.first.wait_for(timeout=15_000)
    finally:
        assert proc.stop() == 0, "".join(proc.output)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _copy_repo(dest: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv",
        "__pycache__",
        "*.egg-info",
        "data",
        "test-artifacts",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "build",
        "dist",
    )
    shutil.copytree(REPO, dest, ignore=ignore)


@pytest.mark.slow
def test_readme_first_command_in_a_fresh_copy(tmp_path: Path) -> None:
    """`bash scripts/demo.sh` in a fresh copy: it makes .venv, installs, and the demo answers."""
    if shutil.which("bash") is None or shutil.which("python3") is None:
        pytest.skip("needs bash and python3")
    probe = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "-d",
            str(tmp_path / "probe"),
            "aiohttp",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if probe.returncode != 0:
        pytest.skip(f"pip cannot reach the package index: {probe.stderr.strip()[-200:]}")
    copy = tmp_path / "antt-bot"
    _copy_repo(copy)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    proc = DemoProcess(
        [
            "bash",
            "scripts/demo.sh",
            "--no-browser",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=copy,
        env=env,
    )
    try:
        base = proc.wait_for_url(900)
        status, body = get(f"{base}/demo")
        assert status == 200 and b"app.js" in body
        assert (copy / ".venv" / "bin" / "antt-bot").exists()
    finally:
        assert proc.stop() == 0, "".join(proc.output)


async def test_guided_post_quiz_and_commendation(demo_server: tuple[str, Path], page: Any) -> None:
    """Thử nhanh: the starter pack's quiz post goes out at its time in the council group, Lan
    answers "114" by quote-reply and hears "đúng rồi", Quân's /khen reaches the group and the
    honour board."""
    async with shot_on_failure(page, "demo_guided_post_quiz_and_commendation"):
        await guided_post_quiz_and_commendation(page, *demo_server)


async def guided_post_quiz_and_commendation(pg: Any, base: str, data_dir: Path) -> None:
    await pg.set_viewport_size({"width": 1280, "height": 900})  # the script beside the chat
    await pg.goto(f"{base}/demo")
    await pg.wait_for_selector(".chat-tab")
    assert outbox(data_dir, "post") == []  # on the calendar, not yet out

    await pg.click("button:has-text('Thử: Bài tuyên truyền theo lịch: tới giờ đăng')")
    await pg.locator("#status", has_text="Bây giờ là").wait_for(timeout=120_000)
    posts = outbox(data_dir, "post")
    assert [c for c, _ in posts] == [data.COUNCIL]
    assert "Số điện thoại báo cháy là số nào?" in posts[0][1]
    assert posts[0][1].startswith("🔥 PHÒNG CHÁY")

    await pg.click("button:has-text('Thử: Trả lời câu hỏi của bài')")
    assert await pg.input_value("#text") == "114"
    await pg.click("#send")
    right = pg.locator(".msg.bot .text", has_text="Đúng rồi, cảm ơn chị Lan")
    await right.first.wait_for(timeout=15_000)

    await pg.click("button:has-text('Thử: Khen gương người tốt: /khen')")
    assert "/khen @Nguyễn Thị Lan" in await pg.input_value("#text")
    await pg.click("#send")
    praise = pg.locator(".msg.bot .text", has_text="Gương người tốt, việc tốt")
    await praise.first.wait_for(timeout=15_000)
    assert "phát hiện cháy ở xưởng 2" in await praise.first.inner_text()

    async with pg.context.expect_page() as opened:
        await pg.click("button:has-text('Thử: Xem bảng vinh danh')")
    board = await opened.value
    await board.wait_for_load_state()
    await board.fill("input[name=username]", "demo-quan")
    await board.fill("input[name=password]", data.DASHBOARD_PASSWORD)
    await board.click("button[type=submit]")
    await board.wait_for_url(re.compile(r".*/dashboard/honour.*"))
    row = board.locator("#honour tbody tr", has_text="Nguyễn Thị Lan")
    assert "phát hiện cháy ở xưởng 2 và báo kịp thời" in await row.inner_text()
