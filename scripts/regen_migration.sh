#!/usr/bin/env bash
# Development only (before the first release): regenerate migration 0001 from models/tables.py.
# After a release, add a new revision instead: alembic revision --autogenerate.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=/work/venv/bin/python
tmp=$(mktemp -d)
rm -f migrations/versions/0001_*.py
"$PY" - "$tmp" <<'PY'
import sys
from alembic import command
from models.db import alembic_config
cfg = alembic_config(url=f"sqlite:///{sys.argv[1]}/gen.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
"$PY" -m ruff format -q migrations/versions/ || true
"$PY" -m ruff check -q --fix migrations/versions/ || true
rm -rf "$tmp"
echo "migrations/versions/0001 regenerated"
