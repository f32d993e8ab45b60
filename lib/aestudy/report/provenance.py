"""Provenance for the report's appendix: git state, Python, platform, package versions, the
environment against the lock (`environment_line`) and where the runs executed (`where_line`).
Nothing here imports torch: the machine that renders is not the one the runs trained on."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

from .. import environment
from ..config import PROJECT_ROOT
from ..files import CorruptArtifact, read_json
from ..ondisk import COMPLETE
from .text import count

__all__ = ["dataset_markdown", "environment_info", "environment_line", "recorded_data", "where_line"]

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


def environment_info(repo: Path | None = None) -> dict:
    """Provenance for the report: git state, Python, platform, versions, device.

    Keys: ``git_commit`` (short sha), ``git_dirty`` (bool; both are "unknown"
    outside a git checkout or without git), ``python``, ``platform``,
    ``versions`` ({distribution: version or "not installed"}), ``lock`` (sha256 of
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
    return {
        "git_commit": sha.strip() if sha else "unknown",
        "git_dirty": bool(status.strip()) if status is not None else "unknown",
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
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


def _where(run: dict) -> dict | None:
    """Where a complete run executed (its record's `where`: host, SLURM job), None if unsaid."""
    if "where" in run:
        return run["where"]
    try:
        return read_json(Path(run["dir"]) / COMPLETE).get("where")
    except (OSError, ValueError, KeyError, CorruptArtifact):
        return None


def where_line(runs: list[dict]) -> str:
    """'vm (73 runs)' or 'node1 (40 runs, 40 SLURM jobs), node2 (33 runs, ...)': the hosts the
    complete runs' records name (`ondisk.run_folders`' rows); runs whose record does not say are
    counted apart."""
    hosts: dict[str, list] = {}
    unknown = 0
    for r in runs:
        where = _where(r) if r.get("status") == "ok" else None
        if not where:
            unknown += r.get("status") == "ok"
            continue
        hosts.setdefault(str(where.get("host") or "unknown host"), []).append(where.get("slurm_job_id"))
    parts = []
    for host, jobs in sorted(hosts.items()):
        slurm = len({j for j in jobs if j is not None})
        parts.append(
            f"{host} ({count(len(jobs), 'run')}" + (f", {count(slurm, 'SLURM job')})" if slurm else ")")
        )
    if unknown:
        parts.append(f"{count(unknown, 'run')} whose record does not say")
    return ", ".join(parts) or "no complete run"


def recorded_data(runs: list[dict]) -> set[str]:
    """The dataset checksums the completed runs' records name (sha256 over the raw files' names and
    bytes, part of every cache key; a run that reads no data records none)."""
    found = set()
    for r in runs:
        if r.get("status") != "ok":
            continue
        try:
            value = (read_json(Path(r["dir"]) / COMPLETE).get("inputs") or {}).get("data")
        except (OSError, CorruptArtifact, AttributeError):
            continue
        if value:
            found.add(str(value))
    return found


def dataset_markdown(files: dict, folder_checksum: str, folder: str, recorded: set, table_caption) -> str:
    """The appendix's dataset section: the raw files' sha256 where the data folder this render sees
    holds what the runs read (its checksum is one their records name; any other they name is said),
    else what the runs recorded and why the files are not listed. `files`: name -> sha256 in
    `folder`; `table_caption(text)`: the numbered caption (a table only where there are files)."""
    head = "## Dataset checksums (sha256)\n\n"
    rows = "\n\n| file | sha256 |\n| --- | --- |\n" + "\n".join(
        f"| `{k}` | `{v}` |" for k, v in files.items()
    )

    def short(checksums) -> str:
        return ", ".join(f"`{c[:12]}…`" for c in sorted(checksums))

    if not files and not recorded:
        return head + f"No dataset files in `{folder}` at render time, and no run recorded reading any."
    if not recorded:
        return (
            head
            + table_caption(f"sha256 of the {len(files)} dataset files in `{folder}` at render time.")
            + rows
        )
    if files and folder_checksum in recorded:
        others = recorded - {folder_checksum}
        return (
            head
            + table_caption(
                f"sha256 of the {len(files)} dataset files the runs read (`{folder}`; together they give the "
                f"dataset checksum {short({folder_checksum})} that "
                + (
                    f"some runs recorded; others recorded {short(others)}, files this render does not see)."
                    if others
                    else "every run that reads data recorded)."
                )
            )
            + rows
        )
    held = "no dataset files" if not files else f"other files (dataset checksum {short({folder_checksum})})"
    return head + (
        f"The runs that read data recorded the dataset checksum{'s' if len(recorded) > 1 else ''} {short(recorded)} "
        f"(sha256 over the raw files' names and bytes); the data folder this render sees, `{folder}`, holds "
        f"{held}, so the files the runs read are not listed here (set DATA_DIR to their folder and render again)."
    )
