"""Executing one run, read as papermill's own `execute_notebook`: a fresh folder (a complete run
there waits aside under `.previous/` until the new one is complete) -> the notebook
with the runner's cells (`surgery`) -> papermill in a watched kernel (`watch`, `kernel_manager`)
-> the declared products and metrics checked (`aestudy.metrics`) -> the completion record last.

The runner appends one cell to the notebook it executes: it lists the project modules the
kernel imported (transitively, imports inside functions included); the runner keys the run by
their sha256 from before the run (`records.as_before`), also kept as provenance. That cell is
taken out of the executed notebook again.

Faults a run's own code does not cause are told apart from those it does (`failed.json`'s
"kind"): "error" (a cell raised), "kernel died" (the kernel process ended under the run: a
signal, such as the out-of-memory killer's SIGKILL, or an exit; its `LocalKernelManager` keeps
the process, so the reason names the signal), "timeout" (the run's time limit passed: a
watchdog thread interrupts the kernel, then kills its process group if it does not stop). The
last two are retried when asked (`retries`). One more is not: "job ending" (a kernel ended by
SIGTERM inside a SLURM job: scancel or the job's wall time signals every process of the job, so
executing the run again there would die with it; a Dask worker hands it back to the sweep,
`executors._on_dask_worker`). Papermill writes the output notebook as cells run, so what executed
before a fault is kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import time
import traceback
from pathlib import Path

from .. import config, metrics
from ..files import read_json, write_json
from ..ondisk import OK  # noqa: F401 (statuses of a run whose outputs can be used; sweep imports it from here)
from ..study import OUT_DIR, STAGES
from . import kernels, progress, records
from .kernel_manager import KERNEL_MANAGER, kernel_env, local_kernel_manager
from .surgery import MODULES_FILE, MODULES_TAG, notebook_for, strip_runner_cells  # noqa: F401 (MODULES_TAG: tests)
from .watch import Watch

ERROR, KERNEL_DIED, TIMEOUT = "error", "kernel died", "timeout"  # failed.json's "kind"
JOB_ENDING = "job ending"  # the kernel got SIGTERM in a SLURM job: the job is being stopped
INTERRUPTED = "interrupted"  # the command was stopped (Ctrl-C reached the kernel): not the run's fault
RETRYABLE = (KERNEL_DIED, TIMEOUT)  # faults of the machine, not of the run's code
KEPT = "its files from an earlier execution are kept as they were"  # a skipped run's "kept"
# reports/<profile>/.previous/<stage>/<run-id>/: a complete run while it executes again
PREVIOUS = ".previous"


def execute_run(
    run,
    force: bool = False,
    no_retrain: bool = False,
    threads: int = 0,
    timeout: float | None = None,
    retries: int = 0,
) -> dict:
    """Execute one run with papermill unless it is complete; never raises for a failing run.
    `run.inputs` must be set (the runner sets it once the upstream runs are done). A run that
    passes `timeout` seconds is stopped; one whose kernel died or that timed out is executed
    again, up to `retries` more times. The result's "attempts" counts the executions."""
    from .plan import Job

    return execute_job(Job([run]), force, no_retrain, threads, timeout, retries)["members"][0]


def _result(run) -> dict:
    return {
        "stage": run.stage,
        "run_id": run.run_id,
        "dir": run.dir,
        "grid": run.grid,
        "error": "",
        "seconds": 0.0,
        "key": "",
        "attempts": 0,
    }


def execute_job(
    job,
    force: bool = False,
    no_retrain: bool = False,
    threads: int = 0,
    timeout: float | None = None,
    retries: int = 0,
    progress_dir: str | None = None,
) -> dict:
    """The runs of a `plan.Job` (their inputs set), each as `execute_run` describes: a complete
    one is cached; the others execute as one notebook execution (the first leads; the rest reach
    it as `plan.CELL_RUNS`), each written to its own folder and recorded under its own key, as if
    it had executed alone. `timeout` is per run: the execution gets it once per run it executes.
    With `progress_dir`, the execution's progress is shown under the first run that executes
    (`progress.tracking`), not under a cached one. Returns {"members": one result per run of the
    job, in its order}."""
    out, todo, why = {}, [], []
    for run in job.runs:
        state, reason, record = records.state(run.dir, run.inputs)
        if state != "complete" and not force and _restore_previous(run):
            state, reason, record = records.state(run.dir, run.inputs)
        if state == "complete" and not force:
            out[run.name] = {  # this command spent no time on it; its table keeps its execution's
                **_result(run),
                "status": "cached",
                "key": record["key"],
                "recorded_seconds": record.get("seconds", 0.0),
            }
        elif no_retrain:
            error = f"--no-retrain: {run.name} would need to run ({state}: {reason})"
            out[run.name] = {**_result(run), "status": "failed", "error": error}
        else:
            todo.append(run)
            why.append(_why(state, reason))
    if todo:
        with progress.tracking(progress_dir, todo[0]):
            progress.say_why("; ".join(dict.fromkeys(why)))
            _quiet_abandoned_cell()  # before the cell runs: a stop may reach the kernel before this process
            limit = timeout * len(todo) if timeout else timeout
            for attempt in range(1, max(0, retries) + 2):
                results, kind = _attempt(todo[0], threads, limit, others=todo[1:])
                if all(r["status"] == "ok" for r in results) or kind not in RETRYABLE:
                    break
        for run, res in zip(todo, results):
            out[run.name] = {**_result(run), **res, "attempts": attempt}
            if res["status"] != "ok" and previous_dir(run.dir).exists():
                out[run.name]["kept"] = (
                    f"its last complete execution waits in {config.relative(previous_dir(run.dir))}: "
                    "back in place, not recomputed, once its inputs, code and environment are those again "
                    "(aestudy status says why it was stale)"
                )
    return {"members": [out[r.name] for r in job.runs]}


def _why(state: str, reason: str) -> str:
    """Why a run executes, in `status`'s words, for its start line: 'never run', 'stale: ...'."""
    if state == "complete":
        return "--force"
    return reason if state == "absent" else f"{state}: {reason}"


def _cell_runs(run, others) -> dict:
    """The leading run's parameters, with the runs it trains for (`plan.CELL_RUNS`)."""
    from .plan import CELL_RUNS

    over = STAGES[run.stage].together
    return {**run.params, CELL_RUNS: [{over: o.params[over], OUT_DIR: o.dir} for o in others]}


def previous_dir(run_dir) -> Path:
    """Where a complete run waits while it is executed again (`_fresh`)."""
    run_dir = Path(run_dir)
    return run_dir.parents[2] / PREVIOUS / run_dir.parent.name / run_dir.name


def _fresh(out: Path) -> None:
    """An empty folder for an execution. A complete run's folder is moved aside, not removed: if
    the new execution fails, the run it was to replace is not lost (`_restore_previous` takes it
    back once the parameters are those it was made with again); a success removes it."""
    if out.exists():
        if (out / records.COMPLETE).exists():
            keep = previous_dir(out)
            if keep.exists():
                shutil.rmtree(keep)
            keep.parent.mkdir(parents=True, exist_ok=True)
            out.rename(keep)  # one rename on one file system: the run is in one place or the other
        else:
            shutil.rmtree(out)
    out.mkdir(parents=True)


def kept(run_dir, run_inputs: dict | None) -> dict | None:
    """The record of the complete run that an execution which then failed (or was stopped) moved
    aside (`_fresh`), where it matches the run as planned now (`run_inputs`): `run` puts it back
    rather than executing (`_restore_previous`), and `status` says so. None where there is none."""
    keep = previous_dir(run_dir)
    if run_inputs is None or not keep.exists():
        return None
    state, _, record = records.state(keep, run_inputs)
    return record if state == "complete" else None


def _restore_previous(run) -> bool:
    """Put back a complete run that an execution which then failed (or was stopped) had moved
    aside, when its record matches the run as planned now (its key): that result is not
    recomputed. True when it was put back."""
    keep = previous_dir(run.dir)
    if kept(run.dir, run.inputs) is None:
        return False
    out = Path(run.dir)
    if out.exists():  # what the failed execution left: its error was reported when it failed
        (out / records.FAILED).unlink(missing_ok=True)
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    keep.rename(out)
    return True


def _attempt(run, threads: int, timeout: float | None, others=()) -> tuple[list[dict], str]:
    """One execution of `run` into a fresh folder (and of `others`, each into its own, trained by
    the same execution): ([{status, error, seconds, key}] per run, kind)."""
    import papermill as pm  # only when a run executes: the import alone takes about 1.5 s

    members = [run, *others]
    out = Path(run.dir)
    nb_out = out / f"{run.stage}.ipynb"
    watch = Watch(timeout)
    start = time.perf_counter()
    warm, log_from = None, 0
    try:
        for m in members:
            _fresh(Path(m.dir))
        before = records.package_digests()  # the code as it is when the run starts
        if kernels.enabled():
            warm = kernels.acquire(
                threads, out.parents[2] / kernels.LOG_DIR, local_kernel_manager(), kernel_env
            )
            log_from = kernels.log_size(warm)
            watch.launched(warm.process)
        with kernel_env(threads, out / records.KERNEL_LOG), watch:  # a kernel started inside inherits this
            reset = (
                kernels.reset_source({n: os.environ.get(n) for n in (progress.ENV, "DATA_DIR")})
                if warm
                else None
            )
            pm.execute_notebook(
                notebook_for(run.notebook, run.dir, reset),
                str(nb_out),
                parameters=_cell_runs(run, others) if others else run.params,
                kernel_name="python3",
                language="python",
                cwd=str(config.PROJECT_ROOT),
                progress_bar=False,
                log_output=False,
                kernel_manager_class=KERNEL_MANAGER,
                **({"km": warm.km} if warm else {}),
                **progress.cell_hooks(),
            )  # cell k of n, for the sweep's display
        if watch.fired:  # the limit passed as the last cell finished: still past it
            raise RunStopped(TIMEOUT, f"timed out after {timeout:g} s")
        modules = records.as_before(read_json(out / MODULES_FILE, list), before)  # paths -> digests
        (out / MODULES_FILE).unlink()
        decl = STAGES.get(run.stage)
        for m in members:  # their declared products and metrics keys, before any may count as complete
            if decl is not None:
                metrics.check_run(
                    Path(m.dir), decl.products, decl.metrics, shown=config.relative(Path(m.dir))
                )
        strip_runner_cells(nb_out)
        for m in others:  # each run's folder holds the notebook that wrote it
            shutil.copyfile(nb_out, Path(m.dir) / nb_out.name)
        seconds = time.perf_counter() - start
        share = _shares(seconds, members)
        keys = [records.key(m.inputs, modules) for m in members]
        for m, run_key in zip(members, keys):
            # last, and inside the try: a run whose record cannot be written (disk full) failed
            records.write_completion(
                Path(m.dir),
                {
                    "status": "ok",
                    "key": run_key,
                    "stage": m.stage,
                    "run_id": m.run_id,
                    "grid": m.grid,
                    **share,
                    "upstream": m.upstream,
                    "inputs": m.inputs,
                    "modules": modules,
                    "kernel": {
                        "pid": watch.process.pid if watch.process else None,
                        "run": warm.runs if warm else 1,
                    },  # its n-th run
                    "where": {
                        "host": socket.gethostname(),  # a SLURM job's id when run in one
                        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
                    },
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    **({"trained_with": [o.name for o in members if o is not m]} if others else {}),
                },
            )
        for m in members:  # every new run is complete: the runs they replace go
            shutil.rmtree(previous_dir(m.dir), ignore_errors=True)
        if warm is not None:
            warm.close_clients()
            kernels.log_since(warm, log_from, out / records.KERNEL_LOG)
    except BaseException as exc:  # a crash in one run must not take the others down
        seconds = time.perf_counter() - start
        share = _shares(seconds, members)
        kind, error = _fault(exc, watch, timeout)  # first: how the kernel ended, before it is shut down
        if warm is not None:  # a kernel that saw a fault is never reused
            kernels.log_since(warm, log_from, out / records.KERNEL_LOG)
            kernels.discard()
        with contextlib.suppress(OSError):
            (out / MODULES_FILE).unlink(missing_ok=True)
        with contextlib.suppress(Exception):  # the partial notebook, as papermill last saved it
            if nb_out.exists():
                strip_runner_cells(nb_out, stopped=error if kind in RETRYABLE else "")
        for m in members:
            with contextlib.suppress(
                OSError
            ):  # disk full: then the run is left without a record (incomplete)
                write_json(
                    Path(m.dir) / records.FAILED,
                    {
                        "status": "failed",
                        "kind": kind,
                        "inputs": m.inputs,
                        "error": error,
                        **share,
                        "traceback": traceback.format_exc()[-20000:],
                        **({"trained_with": [o.name for o in members if o is not m]} if others else {}),
                    },
                )
        if isinstance(exc, KeyboardInterrupt):
            raise
        if kind == INTERRUPTED:  # the sweep records the run as interrupted, as every run it did not finish
            raise KeyboardInterrupt(error)
        ending = {"job_ending": True} if kind == JOB_ENDING else {}
        return [{"status": "failed", "error": error, **share, **ending} for _ in members], kind
    return [{"status": "ok", **share, "key": k} for k in keys], ""


def _quiet_abandoned_cell() -> None:
    """Ctrl-C leaves nbclient's cell task waiting on a kernel that is then shut down: asyncio
    would print its DeadKernelError ("Task exception was never retrieved", a traceback) at exit,
    after the line that says the command was interrupted. The run is recorded; the noise is
    dropped. Installed before every execution (once per process: `addFilter` keeps one copy),
    since under load the kernel may die of the signal before this process hears of it, and the
    run then ends by another path."""
    logging.getLogger("asyncio").addFilter(_not_a_dead_kernel)


def _not_a_dead_kernel(record: logging.LogRecord) -> bool:
    from nbclient.exceptions import DeadKernelError

    return not (record.exc_info and isinstance(record.exc_info[1], DeadKernelError))


def _shares(seconds: float, members: list) -> dict:
    """A run's wall time: a job's is shared equally by its runs (so that a stage's total, the
    slowest run and the next sweep's ETA count it once), the whole kept as `job_seconds`."""
    if len(members) == 1:
        return {"seconds": seconds}
    return {"seconds": seconds / len(members), "job_seconds": seconds}


class RunStopped(Exception):
    """A run stopped from outside its code (see `_fault`)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _fault(exc: BaseException, watch: Watch, timeout: float | None) -> tuple[str, str]:
    """(kind, one-line error) of a failed attempt. The time limit wins: whatever the watchdog's
    interrupt or kill made of the run (KeyboardInterrupt in a cell, a dead kernel), it timed out."""
    if isinstance(exc, RunStopped):
        return exc.kind, str(exc)
    if watch.fired:
        return TIMEOUT, f"timed out after {timeout:g} s"
    if _kernel_died(exc):
        why, job = watch.exit_reason(), os.environ.get("SLURM_JOB_ID")
        if job and watch.exit_signal() == signal.SIGTERM:
            return JOB_ENDING, f"kernel died: {why}: SLURM job {job} is ending"
        return KERNEL_DIED, f"kernel died: {why}" if why else "kernel died"
    if (
        isinstance(exc, KeyboardInterrupt) or getattr(exc, "ename", "") == "KeyboardInterrupt"
    ):  # Ctrl-C here, or in the cell
        return INTERRUPTED, "interrupted: the command was stopped while this run executed"
    return ERROR, _one_line(exc)


def _kernel_died(exc: BaseException) -> bool:
    """nbclient's DeadKernelError (the kernel ended during a cell), or jupyter_client's 'Kernel
    died before replying to kernel_info' (it ended while starting)."""
    from nbclient.exceptions import DeadKernelError

    return isinstance(exc, DeadKernelError) or (
        isinstance(exc, RuntimeError) and str(exc).startswith("Kernel died")
    )


def _one_line(exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    lines = [ln for ln in str(evalue).splitlines() if ln.strip()]
    if ename == "WriteFailed" and lines:  # `cannot write FILE: [Errno 28] ...` (here or in the kernel)
        return lines[-1]
    return f"{ename}: {lines[-1] if lines else ''}".strip()


def skip_run(run, reason: str) -> dict:
    """The result of a run that cannot execute because a run it uses did not complete. Nothing is
    removed: a folder holding a completion record (an earlier execution, complete or not) is left
    byte for byte as it is, since no command may delete a run it is not recomputing (`status` calls
    it stale or incomplete; the result says its files were kept); any other folder gets a
    `failed.json` saying "skipped" and why, beside what it held."""
    out = Path(run.dir)
    result = {**_result(run), "status": "skipped", "error": reason}
    if (out / records.COMPLETE).exists():
        return {**result, "kept": KEPT}
    with contextlib.suppress(
        OSError
    ):  # a disk that cannot take the record leaves the run absent or incomplete
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / records.FAILED, {"status": "skipped", "error": reason})
    return result
