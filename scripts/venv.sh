#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: create .venv on first use and install the project into it.
# Usage: source scripts/venv.sh EXTRAS   (EXTRAS is "" or "[dev]")
# A stamp file holds a hash of pyproject.toml and the extras: while they are unchanged the
# install is current and pip is not run, so a second run needs no network.
set -euo pipefail
PY="${PYTHON:-python3}"
extras="${1:-}"
stamp=.venv/.antt-install-stamp
want="$("$PY" - "$extras" <<'HASH'
import hashlib, pathlib, sys
print(hashlib.sha256(pathlib.Path("pyproject.toml").read_bytes() + sys.argv[1].encode()).hexdigest())
HASH
)"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ -x .venv/bin/antt-bot ] && [ -f "$stamp" ] && grep -qx "$want" "$stamp"; then
  :
else
  # Explicit checks: `set -e` does not apply when the caller sources this inside `&&`.
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null || true  # an old pip also works
  if ! .venv/bin/python -m pip install -q -e ".${extras}"; then
    echo "scripts/venv.sh: installing into .venv failed (see above; is the network up?)" >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "$want" >> "$stamp"
fi
