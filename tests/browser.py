"""Debian's chromium for the browser tests: where it is, and how every test launches it."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
# No sandbox (CI runs as root); nothing the tests do not need (GPU, sync, updates).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
