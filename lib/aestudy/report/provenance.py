"""Provenance for the report's appendix: git state, Python, platform, package versions, device,
and the environment against the lock (`environment_line`)."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

from .. import environment
from ..config import PROJECT_ROOT

__all__ = ["environment_info", "environment_line"]

_VERSIONED = ("torch", "torchvision", "numpy", "pandas", "papermill", "nbconvert", "seaborn", "scikit-learn")


def _git(repo: Path, *args: str) -> str | None:
    try:
        res = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout if res.returncode == 0 else None


def _auto_device() -> tuple[str, str | None]:
    """(device, name) that device="auto" picks: cuda, then mps, then cpu."""
    try:
        import torch  # lazy: heavy, and optional for building a report
    except Exception:  # noqa: BLE001 - ImportError or a broken install
        return "cpu", None
    try:
        if torch.cuda.is_available():
            return "cuda", torch.cuda.get_device_name(0)
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps", None
    except Exception:  # noqa: BLE001
        pass
    return "cpu", None


def environment_info(repo: Path | None = None) -> dict:
    """Provenance for the report: git state, Python, platform, versions, device.

    Keys: ``git_commit`` (short sha), ``git_dirty`` (bool; both are "unknown"
    outside a git checkout or without git), ``python``, ``platform``,
    ``versions`` ({distribution: version or "not installed"}), ``device``
    ("cuda" / "mps" / "cpu", as device="auto" picks), ``device_name``, ``lock`` (sha256 of
    requirements-lock.txt, None without one) and ``lock_differs`` (installed packages that are not
    what the lock pins: "numpy 2.3.0 (locked 2.4.6)").
    """
    repo = Path(repo) if repo is not None else PROJECT_ROOT
    sha = _git(repo, "rev-parse", "--short", "HEAD")
    status = _git(repo, "status", "--porcelain") if sha is not None else None
    versions = {}
    for dist in _VERSIONED:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    device, device_name = _auto_device()
    return {
        "git_commit": sha.strip() if sha else "unknown",
        "git_dirty": bool(status.strip()) if status is not None else "unknown",
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
        "device": device,
        "device_name": device_name,
        "lock": environment.lock_digest(repo),
        "lock_differs": environment.lock_differences(repo),
    }


def environment_line(info: dict, runs: list[dict] | None = None) -> str:
    """One line for the report: the lock's digest, the versions of torch, numpy and Python, and
    whether the environment differs from the lock (naming the packages). `runs`: the
    `environment` of each run's completion record; versions the runs were made under that are
    not this environment's are named too."""
    lock = info.get("lock")
    versions = info.get("versions", {})
    line = (
        f"requirements-lock.txt sha256 {lock[:12]}" if lock else "no lock file"
    ) + f"; torch {versions.get('torch')}, numpy {versions.get('numpy')}, Python {info.get('python')}"
    differs = info.get("lock_differs") or []
    if lock:
        line += (
            (
                "; differs from the lock: "
                + ", ".join(differs[:8])
                + (f" and {len(differs) - 8} more" if len(differs) > 8 else "")
            )
            if differs
            else "; as locked"
        )
    made = {
        f"{d} {r[d]}"
        for r in runs or []
        if r
        for d in (*environment.PINNED, "python")
        if d in r and r[d] != (info.get("python") if d == "python" else versions.get(d))
    }
    if made:
        line += "; some runs were made under " + ", ".join(sorted(made))
    return line
