"""Executing one run: papermill over the stage's notebook, then the completion record.

The runner appends one cell to the notebook it executes: it lists the project modules the
kernel imported (transitively, imports inside functions included) with their sha256, for the
run's cache key and provenance. That cell is taken out of the executed notebook again.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import time
import traceback
from pathlib import Path

from .. import config
from ..files import read_json, write_json
from . import records

KERNEL_MANAGER = "aestudy.runner.execute.LocalKernelManager"
KERNEL_LOG_ENV = "AESTUDY_KERNEL_LOG"
MODULES_FILE = ".modules.json"
MODULES_TAG = "runner-modules"
OK = ("ok", "cached")  # statuses of a run whose outputs can be used


def _local_kernel_manager():
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        """Kernels talk over local IPC sockets: nothing listens on TCP ports, and ipykernel's
        'running over TCP without encryption' warning goes away. What the kernel process itself
        prints (ipykernel's log lines) goes to the run's own kernel.log, not to the console."""

        def __init__(self, **kwargs):
            import tempfile
            import uuid

            kwargs.setdefault("transport", "ipc")
            # a socket path of its own: kernels of parallel workers must never share one
            kwargs.setdefault("ip", os.path.join(tempfile.gettempdir(), f"aestudy-kernel-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log = os.environ.get(KERNEL_LOG_ENV)
            if not log:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            with open(log, "ab") as f:  # the kernel keeps its own copy of the descriptor
                kw.setdefault("stdout", f)
                kw.setdefault("stderr", f)
                return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LocalKernelManager


def __getattr__(name):  # built lazily: jupyter_client is only imported to execute
    if name == "LocalKernelManager":
        return _local_kernel_manager()
    raise AttributeError(name)


def modules_cell_source(out_dir: str) -> str:
    return f'''# (runner) the project modules this kernel imported, for the cache key
import hashlib as _hl, json as _js, pathlib as _pl, sys as _sy
_root, _pkg = _pl.Path({str(config.PROJECT_ROOT)!r}), _pl.Path({str(config.PACKAGE_DIR)!r})
_mods = {{}}
for _m in list(_sy.modules.values()):
    _f = getattr(_m, "__file__", None)
    if _f and _pl.Path(_f).resolve().is_relative_to(_pkg):
        _mods[_pl.Path(_f).resolve().relative_to(_root).as_posix()] = _hl.sha256(_pl.Path(_f).read_bytes()).hexdigest()
(_pl.Path({out_dir!r}) / {MODULES_FILE!r}).write_text(_js.dumps(_mods, sort_keys=True))
'''


def notebook_for(path: str, out_dir: str):
    """The notebook to execute: the stage's, with the cell that records the imported modules."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(modules_cell_source(out_dir))
    cell.metadata["tags"] = [MODULES_TAG]
    if nb.nbformat_minor < 5:  # cell ids came with nbformat 4.5
        cell.pop("id", None)
    nb.cells.append(cell)
    return nb


def _strip_modules_cell(path: Path) -> None:
    import nbformat

    from ..files import atomic_write_bytes

    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if MODULES_TAG not in c.get("metadata", {}).get("tags", [])]
    atomic_write_bytes(path, nbformat.writes(nb).encode())


def execute_run(run, force: bool = False, no_retrain: bool = False, threads: int = 0) -> dict:
    """Execute one run with papermill unless it is complete; never raises for a failing run.
    `run.inputs` must be set (the runner sets it once the upstream runs are done)."""
    result = {"stage": run.stage, "run_id": run.run_id, "dir": run.dir, "grid": run.grid, "error": "",
              "seconds": 0.0, "key": ""}
    state, reason, record = records.state(run.dir, run.inputs)
    if state == "complete" and not force:
        return {**result, "status": "cached", "key": record["key"]}
    if no_retrain:
        return {**result, "status": "failed",
                "error": f"--no-retrain: {run.name} would need to run ({state}: {reason})"}
    import papermill as pm  # only when a run executes: the import alone takes about 1.5 s

    out = Path(run.dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    nb_out = out / f"{run.stage}.ipynb"
    start = time.perf_counter()
    try:
        with _kernel_env(threads, out / records.KERNEL_LOG):  # the kernel inherits this process's environment
            pm.execute_notebook(notebook_for(run.notebook, run.dir), str(nb_out), parameters=run.params,
                                kernel_name="python3", language="python", cwd=str(config.PROJECT_ROOT),
                                progress_bar=False, log_output=False, kernel_manager_class=KERNEL_MANAGER)
        modules = read_json(out / MODULES_FILE)
        (out / MODULES_FILE).unlink()
        _strip_modules_cell(nb_out)
    except BaseException as exc:  # a crash in one run must not take the others down
        seconds = time.perf_counter() - start
        error = _one_line(exc)
        (out / MODULES_FILE).unlink(missing_ok=True)
        write_json(out / records.FAILED, {"status": "failed", "inputs": run.inputs, "error": error,
                                          "seconds": seconds, "traceback": traceback.format_exc()[-20000:]})
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {**result, "status": "failed", "error": error, "seconds": seconds}
    seconds = time.perf_counter() - start
    run_key = records.key(run.inputs, modules)
    records.write_completion(out, {"status": "ok", "key": run_key, "stage": run.stage, "run_id": run.run_id,
                                   "grid": run.grid, "seconds": seconds, "upstream": run.upstream,
                                   "inputs": run.inputs, "modules": modules,
                                   "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return {**result, "status": "ok", "seconds": seconds, "key": run_key}


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
    return f"{ename}: {lines[-1] if lines else ''}".strip()


def skip_run(run, reason: str) -> dict:
    out = Path(run.dir)
    if out.exists():
        shutil.rmtree(out)
    write_json(out / records.FAILED, {"status": "skipped", "error": reason})
    return {"stage": run.stage, "run_id": run.run_id, "dir": run.dir, "grid": run.grid, "status": "skipped",
            "error": reason, "seconds": 0.0, "key": ""}
