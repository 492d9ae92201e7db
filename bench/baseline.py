"""The parser as of a named commit, loaded beside today's in the same process: the baseline
that `python -m bench parse` measures against (docs/performance.md says why from git).

The files are read with `git show` into a temporary package whose name carries the commit, and
its `handlers.` imports are pointed at that package, so both parsers run side by side.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Final

ROOT = Path(__file__).resolve().parent.parent
# main before issue 14's speed work (i14-speed): the parser the speed target is measured against
COMMIT: Final = "0dcca5737adea9794aece5eee1d091986906d117"
# What the parser reads: the package (or, before issue 14, the module), folding, vocabulary.
PATHS: Final = ("handlers/parse", "handlers/parse.py", "handlers/text.py", "handlers/lexicon.yaml")


class BaselineUnavailable(RuntimeError):
    """The commit cannot be read (no git, a shallow clone without it)."""


def _git(*args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        why = err.decode(errors="replace").strip() or str(exc)
        raise BaselineUnavailable(f"git {args[0]}: {why}") from exc
    return done.stdout


def parser_at(commit: str = COMMIT) -> ModuleType:
    """The `handlers.parse` module of `commit`, imported as `<package>.parse`."""
    listed = _git("ls-tree", "-r", "--name-only", commit, "--", *PATHS).decode().split()
    if not listed:
        raise BaselineUnavailable(f"no parser files at {commit[:12]}")
    package = f"antt_parse_{commit[:12]}"
    if package + ".parse" in sys.modules:
        return sys.modules[package + ".parse"]
    home = Path(tempfile.mkdtemp(prefix="antt-baseline-"))
    for name in listed:
        data = _git("show", f"{commit}:{name}")
        target = home / package / Path(name).relative_to("handlers")
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".py"):
            text = data.decode("utf-8")
            text = text.replace("from handlers.", f"from {package}.")
            text = text.replace("import handlers.", f"import {package}.")
            data = text.encode("utf-8")
        target.write_bytes(data)
    (home / package / "__init__.py").write_text('"""A parser of another commit."""\n')
    sys.path.insert(0, str(home))
    return importlib.import_module(package + ".parse")
