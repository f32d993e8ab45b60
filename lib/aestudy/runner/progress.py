"""Live progress of a sweep: the runs in flight, each with its own progress, and the whole sweep's.

The channel is files, because runs execute in pool workers or on Dask workers (which share
`reports/` with this process): while a run executes, its folder `reports/<profile>/.progress/
<stage>/<run-id>/` holds
- `cells.json`, written by the worker's papermill hooks (`cell_hooks`): code cell k of n;
- `kernel.json`, written by the run's own code through `aestudy.progress_file` (the kernel gets
  its path as AESTUDY_PROGRESS): e.g. epoch 2 of 3 of the autoencoder's training.
The worker removes the folder when the run ends (`tracking`), and so does this process when its
result arrives; `.progress/` is emptied when a sweep starts and removed when it ends. None of it
is in a run's folder, so nothing of it is an artifact or an input of a key.

`Display` polls these files from a thread of the main process and hands what they say to a
renderer: `progress_rich.RichView` (bars) when stderr is a terminal, else
`progress_plain.PlainView` (lines, for CI and logs). Cached runs are counted, never listed. The
ETA weighs each run by its expected cost (`runner.eta`); with $AESTUDY_ETA_LOG set, the display
also appends `elapsed eta` samples to that file (benchmarks/eta_accuracy.py reads them).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from ..progress_file import ENV, read, write
from . import progress_plain
from .eta import Costs, InFlight, pace_eta

PROGRESS_DIR = ".progress"  # under reports/<profile>/
CELLS_FILE, KERNEL_FILE, WHY_FILE = "cells.json", "kernel.json", "why.txt"
WHY_CHARS = 160  # of the reason shown on a run's start line
POLL_S = 0.5  # how often the main process reads the progress files
EXECUTED = ("ok", "failed")  # statuses of runs that executed (their time says how fast runs go)
ETA_LOG_ENV = "AESTUDY_ETA_LOG"
ETA_LOG_EVERY_S = 5.0


# ------------------------------------------------------------------ worker side


@contextlib.contextmanager
def tracking(progress_dir: str | None, run):
    """Around one run's execution in a worker: its progress folder, and AESTUDY_PROGRESS for its
    kernel (and the cell hooks) while it executes; both gone afterwards. A no-op without
    `progress_dir` (progress not shown) or when the folder cannot be made."""
    folder = Path(progress_dir) / run.stage / run.run_id if progress_dir else None
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = None
    saved = os.environ.get(ENV)
    if folder is not None:
        os.environ[ENV] = str(folder / KERNEL_FILE)  # the kernel inherits this process's environment
    try:
        yield folder
    finally:
        if folder is not None:
            if saved is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = saved
            shutil.rmtree(folder, ignore_errors=True)


def brief(reason: str) -> str:
    """A reason for a start line: 'upstream X changed; upstream Y changed; ...' as '4 upstream runs
    changed' (modules alike), cut at WHY_CHARS with an ellipsis."""
    head, tail = (reason.split(": ", 1) + [""])[:2] if reason.startswith("stale: ") else ("", reason)
    parts, out = [p for p in tail.split("; ") if p], []
    for kind, words in (("upstream ", "upstream runs changed"), ("module ", "modules changed")):
        same = [p for p in parts if p.startswith(kind) and p.endswith(" changed")]
        if len(same) > 2:
            parts = [p for p in parts if p not in same]
            out.append(f"{len(same)} {words}")
    text = (f"{head}: " if head else "") + "; ".join(parts + out)
    return text if len(text) <= WHY_CHARS else text[: WHY_CHARS - 1].rstrip() + "…"


def say_why(reason: str) -> None:
    """Tell the display why the run executing inside `tracking` executes (`why.txt`, written before
    its first cell, so its start line carries it): 'never run', 'stale: parameter h1: [32] -> [16]'.
    A no-op elsewhere; never raises."""
    path = os.environ.get(ENV)
    if path:
        with contextlib.suppress(OSError):
            Path(path).with_name(WHY_FILE).write_text(brief(reason))


class _CellHooks:
    """nbclient hooks that write `cells.json`: code cell k of n started / done."""

    def __init__(self, path: Path):
        self.path, self.code = path, []

    def notebook_start(self, notebook, **_):
        self.code = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and c.source.strip()]
        with contextlib.suppress(OSError):  # what an earlier attempt's kernel said (--retries)
            self.path.with_name(KERNEL_FILE).unlink(missing_ok=True)
        self._write(0)

    def cell_start(self, cell_index, **_):
        if cell_index in self.code:
            self._write(self.code.index(cell_index))

    def cell_executed(self, cell_index, **_):
        if cell_index in self.code:
            self._write(self.code.index(cell_index) + 1)

    def _write(self, done: int) -> None:
        write(self.path, {"done": done, "total": len(self.code), "unit": "cell"})


def cell_hooks() -> dict:
    """Keyword arguments for `papermill.execute_notebook` (passed on to nbclient) that report
    the cells of a run executed inside `tracking`; none elsewhere."""
    path = os.environ.get(ENV)
    if not path:
        return {}
    hooks = _CellHooks(Path(path).with_name(CELLS_FILE))
    return {
        "on_notebook_start": hooks.notebook_start,
        "on_cell_start": hooks.cell_start,
        "on_cell_executed": hooks.cell_executed,
    }


# ------------------------------------------------------------------ what the files say


def _count(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _why(folder: Path) -> str:
    """What `say_why` wrote for the run whose progress folder this is ('' if nothing)."""
    try:
        return (folder / WHY_FILE).read_text()[:WHY_CHARS].strip()
    except OSError:
        return ""


def describe(cells: dict | None, inner: dict | None) -> tuple[float, str]:
    """(fraction done, words) of a run in flight from its two progress records: 'epoch 2/3,
    cell 4/8' (the epoch being trained, the cell being executed). The fraction follows the
    run's own loop when it reports one, else its cells."""
    parts, fraction = [], 0.0
    for rec in (inner, cells):
        if rec:
            done, total = rec["done"], rec["total"]
            current = total if done >= total else min(math.floor(done) + 1, total)
            parts.append(f"{rec.get('unit') or 'step'} {_count(current)}/{_count(total)}")
    if inner:
        fraction = inner["done"] / inner["total"]
    elif cells:
        fraction = cells["done"] / cells["total"]
    return min(max(fraction, 0.0), 1.0), ", ".join(parts) or "starting"


def eta(elapsed: float, done: float, remaining: float) -> float | None:
    """Seconds left at the pace so far, counting runs (each as one): see `eta.pace_eta`."""
    return pace_eta(elapsed, done, remaining)


def duration(seconds: float | None) -> str:
    """'1:05:09', '5:09', or '?' when unknown."""
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# ------------------------------------------------------------------ main process


class Display:
    """Polls `folder` (a thread) and shows the sweep's progress on `stream` (default stderr): bars
    with rich on a terminal (`live=None`: decided by the stream), else plain lines. `runs`: the
    sweep's runs (runner.plan.Run: the ETA weighs them by expected cost) or just their number
    (each counted as one). `finished(result)` is called with each run's result as it arrives.
    `up_to_date`: the runs a look before the sweep found complete (the executors confirm each when
    the graph reaches it): said on the first line and weighed 0 in the ETA from the start.
    Disabled (`enabled=False`), it draws nothing and `folder` is None: the runs write no progress."""

    def __init__(
        self,
        title: str,
        runs,
        folder: Path,
        enabled: bool = True,
        stream=None,
        live: bool | None = None,
        declared: dict | None = None,
        up_to_date=(),
    ):
        self.title, self.enabled = title, enabled
        self.up_to_date = set(up_to_date)  # runs found complete before the sweep: no cost in the ETA
        self.runs = None if isinstance(runs, int) else list(runs)
        self.total = runs if self.runs is None else len(self.runs)
        self.declared = declared
        self.folder = folder if enabled else None
        self.stream = stream if stream is not None else sys.stderr
        if live is None:
            live = bool(getattr(self.stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"
        self.live = live
        self.flight: dict[str, InFlight] = {}  # run -> since when, how far, its loop's pace
        self.done: set[str] = set()
        self.executed = 0
        self.counts: dict[str, int] = {}
        self.first = None  # when the first run was seen executing (the pace counts from there)
        self.costs = None
        self.view = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._eta_log, self._eta_logged = os.environ.get(ETA_LOG_ENV), -ETA_LOG_EVERY_S

    # -- life cycle
    def __enter__(self):
        if not self.enabled:
            return self
        shutil.rmtree(self.folder, ignore_errors=True)  # of a killed command (the profile is locked)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # then the runs are counted, not followed
            self.folder = None
        self.t0 = time.monotonic()
        if self.runs is not None:
            self.costs = Costs(self.runs, declared=self.declared)
            self.costs.cached |= self.up_to_date
        self.view = self._make_view()
        self.view.begin(self.title, self.total, len(self.up_to_date))
        self._thread = threading.Thread(target=self._poll_loop, name="aestudy-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return False
        self._stop.set()
        self._thread.join()
        with self._lock:
            wall = time.monotonic() - self.t0
            self._log_eta(wall, 0.0, final=True)
            unconfirmed = len(self.up_to_date - self.done)  # up to date, not reached before an interruption
            counts = self.counts | ({"up to date": unconfirmed} if unconfirmed else {})
            self.view.end(self.title, f"{self._count()}/{self.total} runs in {duration(wall)}", counts)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        return False

    def _make_view(self):
        if self.live:
            try:
                from .progress_rich import RichView

                return RichView(self.stream)
            except ImportError:  # rich missing from an older environment: plain lines then
                self.live = False
        return progress_plain.PlainView(self.stream)

    # -- events
    def finished(self, res: dict) -> None:
        """A run's result arrived: its line, the overall count; its progress folder goes."""
        if not self.enabled:
            return
        name = f"{res['stage']}/{res['run_id']}"
        if self.folder is not None:
            shutil.rmtree(self.folder / res["stage"] / res["run_id"], ignore_errors=True)
        now = time.monotonic()
        with self._lock:
            self.done.add(name)
            status = res["status"]
            self.counts[status] = self.counts.get(status, 0) + 1
            if self.costs is not None and name in self.costs.runs:
                self.costs.finished(name, status, res.get("seconds", 0.0))
            if status in EXECUTED:
                self.executed += 1
                began = now - res.get("seconds", 0.0)  # it may have started before it was first seen
                self.first = began if self.first is None else min(self.first, began)
            self.flight.pop(name, None)
            line = None
            if status != "cached":
                tries = f", {res['attempts']} attempts" if res.get("attempts", 0) > 1 else ""
                why = f": {res['error']}" if res.get("error") else ""
                why += (
                    f"; {res['kept']}" if res.get("kept") else ""
                )  # a skipped run's earlier files, or a failed run's complete one
                line = f"{name}  {res.get('seconds', 0.0):.1f} s{tries}{why}"
            overall = self._overall_words(now)
            self.view.finished(name, status, line, overall, self._stamp(now))
            self.view.overall(self._count(), overall)

    def poll(self) -> None:
        """Read the progress files of the runs in flight; hand the renderer what changed."""
        now = time.monotonic()
        seen = {}
        for cells in self.folder.glob(f"*/*/{CELLS_FILE}") if self.folder is not None else ():
            run_dir = cells.parent
            seen[f"{run_dir.parent.name}/{run_dir.name}"] = describe(read(cells), read(run_dir / KERNEL_FILE))
        with self._lock:
            for name, (fraction, words) in seen.items():
                if name in self.done:
                    continue  # its result arrived while the files were read
                if name not in self.flight:
                    self.flight[name] = InFlight(now)
                    self.first = self.first if self.first is not None else now
                    self.view.started(name, now, self._stamp(now), _why(self.folder / name))
                self.flight[name].update(now, fraction)
                self.view.progress(
                    name,
                    fraction,
                    f"{words}  {duration(now - self.flight[name].since)}",
                    now,
                    self._stamp(now),
                )
            overall = self._overall_words(now)
            self.view.overall(self._count(), overall)

    # -- helpers
    def _count(self) -> int:
        """Runs done: those whose result arrived and those found up to date before the sweep (the
        executors confirm these only as the graph reaches them, so the count would jump)."""
        return len(self.done | self.up_to_date)

    def _poll_loop(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.poll()
            except Exception:  # drawing must never stop the sweep
                pass

    def eta_seconds(self, now: float) -> float | None:
        """Seconds left (called holding the lock)."""
        elapsed = now - self.first if self.first is not None else 0.0
        fractions = {n: f.fraction for n, f in self.flight.items()}
        if self.costs is not None:
            projected = {n: p for n, f in self.flight.items() if (p := f.projected(now)) is not None}
            return self.costs.eta(elapsed, self.done, fractions, projected)
        in_flight = sum(fractions.values())
        return eta(elapsed, self.executed + in_flight, self.total - len(self.done) - in_flight)

    def _overall_words(self, now: float) -> str:
        """'7/19 runs, 2 running, ETA 2:10' (called holding the lock)."""
        left = self.eta_seconds(now)
        self._log_eta(now - self.t0, left)
        running = f", {len(self.flight)} running" if self.flight else ""
        if self.flight and left is not None and left < 1:  # a loop done, its run's last cells still to go
            return f"{self._count()}/{self.total} runs{running}, finishing"
        return f"{self._count()}/{self.total} runs{running}, ETA {duration(left)}"

    def _log_eta(self, elapsed: float, left: float | None, final: bool = False) -> None:
        """With $AESTUDY_ETA_LOG: append 'elapsed eta' (eta '?' when unknown; 'end' for the last)."""
        if not self._eta_log or (not final and elapsed - self._eta_logged < ETA_LOG_EVERY_S):
            return
        self._eta_logged = elapsed
        with contextlib.suppress(OSError), open(self._eta_log, "a") as f:
            f.write(f"{elapsed:.1f} {'end' if final else ('?' if left is None else f'{left:.1f}')}\n")

    def _stamp(self, now: float) -> str:
        return f"[{duration(now - self.t0):>7}]"
