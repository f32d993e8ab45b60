"""The software environment a run or a report was made in, against the project's lock.

`requirements-lock.txt` pins every package with its sha256 (`make setup` installs exactly it).
`snapshot()` is what every run's `complete.json` records: the lock's digest and the versions of
Python, torch and numpy. `lock_differences()` names the installed packages that are not what the
lock pins, for the report's provenance line. A run recorded under another torch or numpy version
than the one installed now is stale (`runner.records.state`): those two set the numbers (kernels,
random streams), so the cache re-executes the run rather than mixing two versions in one report.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
from functools import cache, lru_cache
from pathlib import Path

from . import config

LOCK_FILE = "requirements-lock.txt"
PINNED = ("torch", "numpy")  # a run made under other versions of these is stale


@cache
def version(dist: str) -> str:
    """The installed version of `dist` (read once a process: every run's state asks for torch's and
    numpy's, and reading a distribution's metadata takes milliseconds)."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@lru_cache(maxsize=4)
def lock_digest(root: Path | None = None) -> str | None:
    """sha256 of the lock file (None when the checkout has none)."""
    path = Path(root or config.PROJECT_ROOT) / LOCK_FILE
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def snapshot() -> dict:
    """What a completion record keeps of the environment."""
    return {"lock": lock_digest(), "python": sys.version.split()[0], **{d: version(d) for d in PINNED}}


def changed(recorded: dict | None, now: dict | None = None) -> list[str]:
    """The packages of `PINNED` whose version differs between a record's environment and `now`
    (default: this process's), in words. A record without an environment says nothing."""
    if not recorded:
        return []
    now = now or snapshot()
    return [
        f"made under {d} {recorded[d]}, now {now.get(d)}"
        for d in PINNED
        if d in recorded and recorded[d] != now.get(d)
    ]


def locked(root: Path | None = None) -> dict[str, str]:
    """{package: version} the lock pins for this interpreter and platform (markers applied)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    path = Path(root or config.PROJECT_ROOT) / LOCK_FILE
    pins = {}
    for line in path.read_text().splitlines() if path.is_file() else ():
        if not line or line.startswith((" ", "#", "-")):
            continue
        try:
            req = Requirement(line.rstrip(" \\"))
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate():
            pins[canonicalize_name(req.name)] = next(iter(req.specifier)).version
    return pins


def lock_differences(root: Path | None = None) -> list[str]:
    """'numpy 2.3.0 (locked 2.4.6)' for every locked package installed at another version or not
    at all; [] when the environment is the lock's (or there is no lock)."""
    out = []
    for name, want in sorted(locked(root).items()):
        have = version(name)
        if have != want:
            out.append(f"{name} {have} (locked {want})")
    return out
