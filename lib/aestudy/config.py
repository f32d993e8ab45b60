"""Where things are: the project root, its notebooks, and the reports folder (one place for paths)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent  # lib/aestudy
LIB_DIR = PACKAGE_DIR.parent  # lib/ (put on sys.path of every kernel)
PROJECT_ROOT = LIB_DIR.parent
NOTEBOOKS = PROJECT_ROOT / "notebooks"


def reports_dir() -> Path:
    """reports/ of the project, or $REPORTS_DIR (tests and benchmarks write elsewhere)."""
    return Path(os.environ.get("REPORTS_DIR") or PROJECT_ROOT / "reports").resolve()


def profile_dir(profile: str) -> Path:
    return reports_dir() / profile


def relative(path) -> str:
    """A path for people: relative to the project root when inside it."""
    p = Path(path).resolve()
    return p.relative_to(PROJECT_ROOT).as_posix() if p.is_relative_to(PROJECT_ROOT) else str(p)
