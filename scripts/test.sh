#!/usr/bin/env bash
# Set up .venv (first time only) and run the whole test suite; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh "[dev]"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
