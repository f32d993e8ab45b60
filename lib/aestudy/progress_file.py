"""A run's progress, told to the runner through one small file; a no-op outside the runner.

The runner gives each run's kernel the environment variable AESTUDY_PROGRESS (a path under
`reports/<profile>/.progress/`); a loop of the run (the epochs of `experiments.autoencode.run`) calls
`report(done, total, unit)`, which writes `{"done": 1.4, "total": 3, "unit": "epoch"}` there.
`done` may be fractional (1.4: the second epoch, 40 % of its batches done). Writes are atomic
(a temporary file renamed), at most one every `EVERY_S` seconds, and never raise: progress must
not slow a run down or fail it. Without the variable (JupyterLab, papermill by hand) nothing is
written. Progress files are never artifacts of a run, nor inputs of its key.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

ENV = "AESTUDY_PROGRESS"
EVERY_S = 0.5  # at most one write per this many seconds (the last step of a loop is always written)
_last: dict[str, float] = {}  # path -> time.monotonic() of its last write


def active() -> bool:
    """Whether a runner is showing this run's progress (so a run's own progress bar would only
    fill its executed notebook with stderr lines)."""
    return bool(os.environ.get(ENV))


def report(done: float, total: float, unit: str) -> None:
    """Tell the runner `done` of `total` `unit`s are done (throttled; a no-op without ENV)."""
    path = os.environ.get(ENV)
    if not path:
        return
    now = time.monotonic()
    if done < total and now - _last.get(path, float("-inf")) < EVERY_S:
        return
    _last[path] = now
    write(path, {"done": done, "total": total, "unit": unit})


def write(path, obj: dict) -> bool:
    """Write `obj` as JSON to `path` atomically (no fsync: progress, not data); False if it
    could not be written (a missing folder, a full disk)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj))
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        return False


def read(path) -> dict | None:
    """The progress written at `path`, or None (not there, or not a progress record)."""
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(obj, dict)
        or not isinstance(obj.get("done"), (int, float))
        or not isinstance(obj.get("total"), (int, float))
        or obj["total"] <= 0
    ):
        return None
    return obj
