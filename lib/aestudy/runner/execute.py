"""Executing one run: papermill over the stage's notebook, then the completion record.

The runner appends one cell to the notebook it executes: it lists the project modules the
kernel imported (transitively, imports inside functions included); the runner keys the run by
their sha256 from before the run (`records.as_before`), also kept as provenance. That cell is
taken out of the executed notebook again.

Faults a run's own code does not cause are told apart from those it does (`failed.json`'s
"kind"): "error" (a cell raised), "kernel died" (the kernel process ended under the run: a
signal, such as the out-of-memory killer's SIGKILL, or an exit; its `LocalKernelManager` keeps
the process, so the reason names the signal), "timeout" (the run's time limit passed: a
watchdog thread interrupts the kernel, then kills its process group if it does not stop). The
last two are retried when asked (`retries`). Papermill writes the output notebook as cells run,
so what executed before a fault is kept.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
import traceback
from pathlib import Path

from .. import config, metrics
from ..files import read_json, write_json
from ..study import STAGES
from . import kernels, orphans, progress, records

KERNEL_MANAGER = "aestudy.runner.execute.LocalKernelManager"
KERNEL_LOG_ENV = "AESTUDY_KERNEL_LOG"
MODULES_FILE = ".modules.json"
MODULES_TAG = "runner-modules"
OK = ("ok", "cached")  # statuses of a run whose outputs can be used
ERROR, KERNEL_DIED, TIMEOUT = "error", "kernel died", "timeout"  # failed.json's "kind"
RETRYABLE = (KERNEL_DIED, TIMEOUT)  # faults of the machine, not of the run's code
TIMEOUT_GRACE_S = 5.0  # after the interrupt at a time limit, how long before the kernel is killed
_current = threading.local()  # the Watch of the run this thread executes (read by the kernel manager)


class Watch:
    """One attempt's kernel: its process (recorded by LocalKernelManager at launch), how it
    ended, and the watchdog that stops it at the time limit: SIGINT to the kernel (the cell
    raises KeyboardInterrupt and papermill saves the notebook), then SIGKILL to its process
    group every `grace` seconds until the execution has returned."""

    def __init__(self, timeout: float | None = None, grace: float | None = None):
        self.timeout, self.grace = timeout, TIMEOUT_GRACE_S if grace is None else grace
        self.process = None       # the kernel's subprocess.Popen
        self.fired = False        # the time limit passed
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = None

    def launched(self, process) -> None:
        with self._lock:
            self.process = process

    def __enter__(self):
        _current.watch = self
        if self.timeout:
            self._thread = threading.Thread(target=self._watch, name="aestudy-run-watchdog", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        _current.watch = None
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        return False

    def _watch(self) -> None:
        if self._done.wait(self.timeout):
            return
        self.fired = True
        self._signal(signal.SIGINT)
        while not self._done.wait(self.grace):
            self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        with self._lock:
            proc = self.process
            if proc is None or proc.poll() is not None:
                return  # not started yet, or gone (its pid may be another process's by now)
            try:
                pgid = os.getpgid(proc.pid)
                if signum == signal.SIGKILL and pgid != os.getpgrp():
                    os.killpg(pgid, signum)  # the kernel and whatever it started
                else:
                    os.kill(proc.pid, signum)
            except OSError:
                pass

    def exit_reason(self) -> str:
        """How the kernel process ended, in words: 'signal 9 (SIGKILL, ...)', 'exit code 3'."""
        code = self.process.poll() if self.process is not None else None
        if code is None:
            return ""
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown signal"
            hint = ": killed, e.g. by the out-of-memory killer" if -code == signal.SIGKILL else ""
            return f"signal {-code} ({name}{hint})"
        return f"exit code {code}"


def _local_kernel_manager():
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        """Kernels talk over local IPC sockets: nothing listens on TCP ports, and ipykernel's
        'running over TCP without encryption' warning goes away. What the kernel process itself
        prints (ipykernel's log lines) goes to the run's own kernel.log, not to the console. A
        kernel dies with the process that started it (`orphans`)."""

        def __init__(self, **kwargs):
            import tempfile
            import uuid

            kwargs.setdefault("transport", "ipc")
            # a socket path of its own: kernels of parallel workers must never share one
            kwargs.setdefault("ip", os.path.join(tempfile.gettempdir(), f"aestudy-kernel-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kwargs)
            # created in the thread that executes the run (launched maybe in another one)
            self.run_watch = getattr(_current, "watch", None)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log = os.environ.get(KERNEL_LOG_ENV)
            with open(log, "ab") if log else contextlib.nullcontext() as f:  # the kernel keeps its own copy
                if f is not None:
                    kw.setdefault("stdout", f)
                    kw.setdefault("stderr", f)
                # killed with this process, should it be killed (see orphans)
                await super()._async_launch_kernel(orphans.dies_with_this_process(kernel_cmd), **kw)
            if self.run_watch is not None:  # the process object outlives the provisioner's reference
                self.run_watch.launched(getattr(self.provisioner, "process", None))

    return LocalKernelManager


def __getattr__(name):  # built lazily: jupyter_client is only imported to execute
    if name == "LocalKernelManager":
        return _local_kernel_manager()
    raise AttributeError(name)


def modules_cell_source(out_dir: str) -> str:
    return f'''# (runner) the project modules this kernel imported, for the cache key (the runner adds their digests)
import json as _js, pathlib as _pl, sys as _sy
_root, _pkg = _pl.Path({str(config.PROJECT_ROOT)!r}), _pl.Path({str(config.PACKAGE_DIR)!r})
_mods = sorted({{_pl.Path(_f).resolve().relative_to(_root).as_posix() for _m in list(_sy.modules.values())
                if (_f := getattr(_m, "__file__", None)) and _pl.Path(_f).resolve().is_relative_to(_pkg)}})
(_pl.Path({out_dir!r}) / {MODULES_FILE!r}).write_text(_js.dumps(_mods))
'''


def notebook_for(path: str, out_dir: str, reset: str | None = None):
    """The notebook to execute: the stage's, with the cell that records the imported modules
    last and, in a warm kernel, the cell that gives the run a fresh start first (`reset`)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)

    def runner_cell(source: str, tag: str):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = [tag]
        if nb.nbformat_minor < 5:  # cell ids came with nbformat 4.5
            cell.pop("id", None)
        return cell

    nb.cells.append(runner_cell(modules_cell_source(out_dir), MODULES_TAG))
    if reset is not None:
        nb.cells.insert(0, runner_cell(reset, kernels.RESET_TAG))
    return nb


def _strip_modules_cell(path: Path, stopped: str = "") -> None:
    """Take the runner's cell out of an executed notebook; `stopped` (why a run was stopped
    outside its code: its kernel died, its time ran out) goes into a first cell, the way
    papermill marks a cell that raised."""
    import nbformat

    from ..files import atomic_write_bytes

    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not {MODULES_TAG, kernels.RESET_TAG} & set(c.get("metadata", {}).get("tags", []))]
    if stopped:
        cell = nbformat.v4.new_markdown_cell(f'<span style="color:red; font-size:1.5em">Run stopped: {stopped}; '
                                             "the cells below are those executed until then.</span>")
        if nb.nbformat_minor < 5:
            cell.pop("id", None)
        nb.cells.insert(0, cell)
    atomic_write_bytes(path, nbformat.writes(nb).encode())


def execute_run(run, force: bool = False, no_retrain: bool = False, threads: int = 0,
                timeout: float | None = None, retries: int = 0) -> dict:
    """Execute one run with papermill unless it is complete; never raises for a failing run.
    `run.inputs` must be set (the runner sets it once the upstream runs are done). A run that
    passes `timeout` seconds is stopped; one whose kernel died or that timed out is executed
    again, up to `retries` more times. The result's "attempts" counts the executions."""
    result = {"stage": run.stage, "run_id": run.run_id, "dir": run.dir, "grid": run.grid, "error": "",
              "seconds": 0.0, "key": "", "attempts": 0}
    state, reason, record = records.state(run.dir, run.inputs)
    if state == "complete" and not force:
        return {**result, "status": "cached", "key": record["key"]}
    if no_retrain:
        return {**result, "status": "failed",
                "error": f"--no-retrain: {run.name} would need to run ({state}: {reason})"}
    for attempt in range(1, max(0, retries) + 2):
        res, kind = _attempt(run, threads, timeout)
        res = {**result, **res, "attempts": attempt}
        if res["status"] == "ok" or kind not in RETRYABLE:
            return res
    return res


def _attempt(run, threads: int, timeout: float | None) -> tuple[dict, str]:
    """One execution of `run` into a fresh folder: ({status, error, seconds, key}, kind)."""
    import papermill as pm  # only when a run executes: the import alone takes about 1.5 s

    out = Path(run.dir)
    nb_out = out / f"{run.stage}.ipynb"
    watch = Watch(timeout)
    start = time.perf_counter()
    warm, log_from = None, 0
    try:
        if out.exists():
            (out / records.COMPLETE).unlink(missing_ok=True)  # first: a folder half removed is never complete
            shutil.rmtree(out)
        out.mkdir(parents=True)
        before = records.package_digests()  # the code as it is when the run starts
        if kernels.enabled():
            warm = kernels.acquire(threads, out.parents[2] / kernels.LOG_DIR, _local_kernel_manager(), _kernel_env)
            log_from = kernels.log_size(warm)
            watch.launched(warm.process)
        with _kernel_env(threads, out / records.KERNEL_LOG), watch:  # a kernel started inside inherits this
            reset = kernels.reset_source({progress.ENV: os.environ.get(progress.ENV)}) if warm else None
            pm.execute_notebook(notebook_for(run.notebook, run.dir, reset), str(nb_out), parameters=run.params,
                                kernel_name="python3", language="python", cwd=str(config.PROJECT_ROOT),
                                progress_bar=False, log_output=False, kernel_manager_class=KERNEL_MANAGER,
                                **({"km": warm.km} if warm else {}),
                                **progress.cell_hooks())  # cell k of n, for the sweep's display
        if watch.fired:  # the limit passed as the last cell finished: still past it
            raise RunStopped(TIMEOUT, f"timed out after {timeout:g} s")
        modules = records.as_before(read_json(out / MODULES_FILE), before)  # paths -> digests
        (out / MODULES_FILE).unlink()
        decl = STAGES[run.stage]  # its declared products and metrics keys, before it may count as complete
        metrics.check_run(out, decl.products, decl.metrics, shown=config.relative(out))
        _strip_modules_cell(nb_out)
        seconds = time.perf_counter() - start
        run_key = records.key(run.inputs, modules)
        # last, and inside the try: a run whose record cannot be written (disk full) failed
        records.write_completion(out, {"status": "ok", "key": run_key, "stage": run.stage, "run_id": run.run_id,
                                       "grid": run.grid, "seconds": seconds, "upstream": run.upstream,
                                       "inputs": run.inputs, "modules": modules,
                                       "kernel": {"pid": watch.process.pid if watch.process else None,
                                                  "run": warm.runs if warm else 1},  # its n-th run
                                       "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        if warm is not None:
            warm.close_clients()
            kernels.log_since(warm, log_from, out / records.KERNEL_LOG)
    except BaseException as exc:  # a crash in one run must not take the others down
        seconds = time.perf_counter() - start
        kind, error = _fault(exc, watch, timeout)  # first: how the kernel ended, before it is shut down
        if warm is not None:  # a kernel that saw a fault is never reused
            kernels.log_since(warm, log_from, out / records.KERNEL_LOG)
            kernels.discard()
        with contextlib.suppress(OSError):
            (out / MODULES_FILE).unlink(missing_ok=True)
        with contextlib.suppress(Exception):  # the partial notebook, as papermill last saved it
            if nb_out.exists():
                _strip_modules_cell(nb_out, stopped=error if kind in RETRYABLE else "")
        with contextlib.suppress(OSError):  # disk full: then the run is left without a record (incomplete)
            write_json(out / records.FAILED, {"status": "failed", "kind": kind, "inputs": run.inputs,
                                              "error": error, "seconds": seconds,
                                              "traceback": traceback.format_exc()[-20000:]})
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {"status": "failed", "error": error, "seconds": seconds}, kind
    return {"status": "ok", "seconds": seconds, "key": run_key}, ""


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
        why = watch.exit_reason()
        return KERNEL_DIED, f"kernel died: {why}" if why else "kernel died"
    return ERROR, _one_line(exc)


def _kernel_died(exc: BaseException) -> bool:
    """nbclient's DeadKernelError (the kernel ended during a cell), or jupyter_client's 'Kernel
    died before replying to kernel_info' (it ended while starting)."""
    from nbclient.exceptions import DeadKernelError

    return isinstance(exc, DeadKernelError) or (isinstance(exc, RuntimeError) and str(exc).startswith("Kernel died"))


@contextlib.contextmanager
def _kernel_env(threads: int, log: Path):
    """For the kernel started inside: its thread share (LIB_THREADS / OMP_NUM_THREADS), this
    checkout's lib/ first on PYTHONPATH (so `import aestudy` finds this copy) and its log file;
    restored afterwards."""
    names = ("LIB_THREADS", "OMP_NUM_THREADS", "PYTHONPATH", KERNEL_LOG_ENV)
    saved = {n: os.environ.get(n) for n in names}
    if threads:
        os.environ.update({n: str(threads) for n in names[:2]})
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(config.LIB_DIR), saved["PYTHONPATH"]) if p)
    os.environ[KERNEL_LOG_ENV] = str(log)
    try:
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def _one_line(exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    lines = [ln for ln in str(evalue).splitlines() if ln.strip()]
    if ename == "WriteFailed" and lines:  # `cannot write FILE: [Errno 28] ...` (here or in the kernel)
        return lines[-1]
    return f"{ename}: {lines[-1] if lines else ''}".strip()


def skip_run(run, reason: str) -> dict:
    out = Path(run.dir)
    with contextlib.suppress(OSError):  # a disk that cannot take the record leaves the run absent or incomplete
        if out.exists():
            (out / records.COMPLETE).unlink(missing_ok=True)
            shutil.rmtree(out)
        write_json(out / records.FAILED, {"status": "skipped", "error": reason})
    return {"stage": run.stage, "run_id": run.run_id, "dir": run.dir, "grid": run.grid, "status": "skipped",
            "error": reason, "seconds": 0.0, "key": "", "attempts": 0}
