"""Provenance for the report's appendix: git state, Python, platform, package versions, device."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

from ..config import PROJECT_ROOT

__all__ = ["environment_info"]

_VERSIONED = ("torch", "torchvision", "numpy", "pandas", "papermill", "nbconvert", "seaborn", "scikit-learn")


def _git(repo: Path, *args: str) -> str | None:
    try:
        res = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True, text=True, timeout=20, check=False,
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
    ("cuda" / "mps" / "cpu", as device="auto" picks) and ``device_name``.
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
    }
