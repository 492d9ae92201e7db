"""`python -m bench` runs every benchmark; `python -m bench intake e2e` runs those named.

Each prints one table. Benchmarks written by others (parse, digest) are run when present.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
import time
from types import ModuleType

# name -> module; "ingest" is issue 2's name for the intake benchmark.
BENCHES = {
    "intake": "bench.ingest",
    "e2e": "bench.e2e",
    "processor": "bench.processor",
    "sender": "bench.sender",
    "parse": "bench.parse",
    "digest": "bench.digest",
    "nudges": "bench.nudges",
    "memory": "bench.memory",
    "understanding": "bench.understanding",
    "councils": "bench.councils",
    "province": "bench.province",
}
ALIASES = {"ingest": "intake"}


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(BENCHES[name])
    except ModuleNotFoundError as exc:
        if exc.name == BENCHES[name]:
            return None  # not written yet
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHES)} (default: all)")
    args = parser.parse_args(argv)
    names = [ALIASES.get(n, n) for n in args.names] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    for name in names:
        module = _load(name)
        if module is None:
            print(f"### {name}\n\n(skipped: {BENCHES[name]} does not exist yet)\n", flush=True)
            continue
        run = module.main
        start = time.monotonic()
        out = run()
        if inspect.isawaitable(out):
            out = asyncio.run(out)  # type: ignore[arg-type]
        if isinstance(out, str):
            print(out)
        print(f"\n({name}: {time.monotonic() - start:.0f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
