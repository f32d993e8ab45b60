"""The on-disk format of a profile's runs, as both sides read it: the folders and record names
under reports/<profile>/ (runs/<stage>/<run-id>/, tables/<stage>.csv, runs.json, params.yaml),
when a run counts as complete, and the statuses a tidy table's `status` column takes. The runner
writes these files; the report reads them and nothing of the runner. Every path of the format is
spelled here alone (tests/test_layering.py checks that no other module of lib/aestudy does).

A run is complete when `complete.json`, written last, exists and every artifact it lists still
has its sha256; a run that raised leaves `failed.json` (status, error); anything else is
incomplete (a killed run)."""

from __future__ import annotations

from pathlib import Path

from . import config
from .files import CorruptArtifact, read_json, sha256_file

RUNS = "runs"  # reports/<profile>/runs/<stage>/<run-id>/: one folder per run
TABLES = "tables"  # reports/<profile>/tables/<stage>.csv: one tidy table per stage
RUNS_JSON = "runs.json"  # the last command's outcome of every planned run
PARAMS_COPY = "params.yaml"  # the parameter file the profile was last run with
COMPLETE = "complete.json"
FAILED = "failed.json"
RECORDS = (COMPLETE, FAILED)  # a run's record: complete, else failed
METRICS = "metrics.json"  # a run's metrics (aestudy.metrics: the keys the report reads)
KERNEL_LOG = "kernel.log"  # what the kernel printed: kept beside the run, not an artifact
RESOURCES = "resources.json"
OK = ("ok", "cached")  # table statuses of a run whose outputs can be used
TABLE_COLUMNS = ("run_id", "status")  # what every tables/<stage>.csv holds, whatever the stage
RECORD_MAPPINGS = ("artifacts", "inputs", "modules")  # a completion record's fields that map names to values


def runs_dir(profile_dir) -> Path:
    return Path(profile_dir) / RUNS


def run_dir(profile_dir, stage: str, run_id) -> Path:
    return runs_dir(profile_dir) / stage / str(run_id)


def tables_dir(profile_dir) -> Path:
    return Path(profile_dir) / TABLES


def table(profile_dir, stage: str) -> Path:
    return tables_dir(profile_dir) / f"{stage}.csv"


def verify_completion(run_dir) -> tuple[dict | None, str]:
    """(record, "") when the run is complete and intact, else (None, reason)."""
    run_dir = Path(run_dir)
    path = run_dir / COMPLETE
    if not path.exists():
        return None, "no completion record"
    try:
        record = read_json(path)
    except CorruptArtifact as exc:
        return None, str(exc)
    wrong = [k for k in RECORD_MAPPINGS if not isinstance(record.get(k, {}), dict)]
    if wrong:
        return None, f"{config.relative(path)}: not a completion record ({', '.join(wrong)}: not a mapping)"
    for name, digest in record.get("artifacts", {}).items():
        f = run_dir / name
        if not f.exists():
            return None, f"{config.relative(f)}: missing"
        if sha256_file(f) != digest:
            return None, f"{config.relative(f)}: checksum mismatch (truncated or modified)"
    return record, ""


def run_status(run_dir) -> dict:
    """One run folder as the report lists it: status (ok | the failure's status | incomplete),
    wall time, error, peak memory and the environment its record names (None before records did)."""
    run_dir = Path(run_dir)
    record, reason = verify_completion(run_dir)
    row = {
        "stage": run_dir.parent.name,
        "run_id": run_dir.name,
        "dir": run_dir,
        "peak_rss_mb": None,
        "environment": None,
    }
    if record is not None:
        row.update(
            status="ok", seconds=record.get("seconds", 0.0), error="", environment=record.get("environment")
        )
        try:
            row["peak_rss_mb"] = read_json(run_dir / RESOURCES).get("peak_rss_mb")
        except CorruptArtifact:  # absent, or damaged: the measurement is unknown
            row["peak_rss_mb"] = None
    elif (run_dir / FAILED).exists():
        try:
            failed = read_json(run_dir / FAILED)
        except CorruptArtifact as exc:
            failed = {"status": "failed", "error": str(exc)}
        row.update(
            status=failed.get("status", "failed"),
            seconds=failed.get("seconds", 0.0),
            error=failed.get("error", ""),
        )
    else:
        row.update(status="incomplete", seconds=0.0, error=reason)
    return row


def run_name(run_dir) -> str | None:
    """'autoencode/d10-nc2-s0' for a run folder reports/<profile>/runs/<stage>/<run-id>/: a model's
    name wherever it goes (any stage's models can meet in one table); None outside a profile."""
    run_dir = Path(run_dir)
    return f"{run_dir.parent.name}/{run_dir.name}" if run_dir.parent.parent.name == RUNS else None


def run_folders(profile_dir) -> list[dict]:
    """Every run folder of a profile with its status (`run_status`), whatever runs.json says."""
    runs = runs_dir(profile_dir)
    return [
        run_status(d)
        for stage in sorted(runs.glob("*"))
        for d in sorted(p for p in stage.glob("*") if p.is_dir())
    ]


def record_files(profile_dir) -> list[Path]:
    """Every completion and failure record of a profile (what a report is made from)."""
    return [p for p in sorted(runs_dir(profile_dir).glob("*/*/*.json")) if p.name in RECORDS]
