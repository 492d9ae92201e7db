"""Peak RSS (VmHWM) of a `serve` subprocess after 100,000 deliveries; target < 200 MB."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml
from sqlalchemy import func, select

from bench.common import (
    NOWHERE,
    SECRET,
    TOKEN,
    load_in_process,
    machine,
    ms,
    pct,
    table,
    vm_hwm_kib,
)
from models.db import make_engine, make_sessionmaker
from models.tables import InboundEvent

ROOT = Path(__file__).resolve().parent.parent
DELIVERIES = 100_000
MAX_SECONDS = 420.0  # bound on the load; the figure says how many got in
PROCESS_WAIT = 120.0  # how long we let the workers catch up afterwards


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main() -> str:
    root = ROOT
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        db = Path(d) / "mem.db"
        cfg = Path(d) / "config.yaml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "database": {"url": f"sqlite+aiosqlite:///{db}"},
                    "platform": {"kind": "zalo_bot", "api_base": NOWHERE},
                    "engagement": {"holidays": [], "monthly_message_budget": 0},
                    "log_level": "WARNING",
                }
            ),
            encoding="utf-8",
        )
        port = _port()
        env = {
            **os.environ,
            "ANTT_PLATFORM__TOKEN": TOKEN,
            "ANTT_PLATFORM__WEBHOOK_SECRET": SECRET,
            "PYTHONPATH": str(root),
        }
        proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before any load)
            [sys.executable, "-m", "bot", "serve", "-c", str(cfg), "--port", str(port)],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(300):
                    try:
                        async with http.get(f"{base}/healthz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if proc.poll() is not None:
                        raise RuntimeError(f"serve exited with {proc.returncode} at start-up")
                    await asyncio.sleep(0.1)
                else:
                    raise RuntimeError("serve did not answer /healthz with 200 within 30 s")
            idle = vm_hwm_kib(proc.pid)
            result = await load_in_process(
                url=f"{base}/webhook/zalo-bot",
                connections=32,
                seconds=MAX_SECONDS,
                max_requests=DELIVERIES,
                prefix="mem",
                senders=2000,
            )
            after_load = vm_hwm_kib(proc.pid)
            engine = make_engine(f"sqlite+aiosqlite:///{db}")
            sessions = make_sessionmaker(engine)
            deadline = time.monotonic() + PROCESS_WAIT
            done = 0
            while time.monotonic() < deadline:
                async with sessions() as s:
                    done = (
                        await s.execute(
                            select(func.count())
                            .select_from(InboundEvent)
                            .where(InboundEvent.status != "pending")
                        )
                    ).scalar_one()
                if done >= result.ok:
                    break
                await asyncio.sleep(2)
            await engine.dispose()
            peak = vm_hwm_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    rows = [
        ["serve, started and idle", f"{idle / 1024:.0f}", "-", "-"],
        [
            f"after {result.ok:,} deliveries (200) in {result.elapsed:.0f} s",
            f"{after_load / 1024:.0f}",
            f"{result.rate:,.0f}/s",
            ms(pct(result.latencies, 99)),
        ],
        [f"after processing ({done:,} handled)", f"{peak / 1024:.0f}", "-", "-"],
    ]
    return table(
        "memory of `antt-bot serve` (VmHWM)",
        ["moment", "peak RSS MB", "rate", "p99 ms"],
        rows,
        [
            "target: < 200 MB; SQLite, workers on, 2,000 distinct senders, "
            f"text 'xin chào'; {machine()}"
        ],
    )


if __name__ == "__main__":
    print(asyncio.run(main()))
