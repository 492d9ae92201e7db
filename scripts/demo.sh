#!/usr/bin/env bash
# Set up .venv (first time only) and start the demo: SQLite, the built-in Zalo simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh ""
exec .venv/bin/antt-bot demo "$@"
