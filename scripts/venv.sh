#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: create .venv on first use and install the project into it.
# Usage: source scripts/venv.sh EXTRAS   (EXTRAS is "" or "[dev]")
set -euo pipefail
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${1:-}"
