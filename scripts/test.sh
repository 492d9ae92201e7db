#!/usr/bin/env bash
# Set up .venv (first time only) and run the whole test suite, one worker per core (pytest-xdist;
# `-n 0` runs it in this one process); arguments go to pytest. -rs names why a test was
# skipped, --durations the slowest (what to look at when the run grows).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh "[dev]"
exec .venv/bin/python -m pytest -q -p no:cacheprovider -rs --durations=20 -n auto "$@"
