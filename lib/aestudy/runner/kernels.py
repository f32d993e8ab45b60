"""Warm kernels: one kernel per worker, reused from run to run, so that a sweep pays the kernel's
start and the import of torch, pandas and matplotlib once per worker rather than once per run.

A run in a warm kernel starts with a cell of the runner's (taken out of the executed notebook
again) that gives it what a fresh kernel would: none of the project's modules imported (so the
modules cell records exactly what this run imports, for its cache key), an empty namespace and
input history, torch's generator at its start-up seed and numpy's and Python's reseeded from the
OS (as at a start), gradients on, matplotlib's figures closed and its settings and the warning
filters as they were when the kernel started, this run's progress file, and the peak-memory
counter reset. Third-party modules stay imported: that is the saving. A kernel is reused only
after a run that succeeded; after any fault it is shut down and the next run starts a new one.
`AESTUDY_FRESH_KERNELS=1` (`--fresh-kernels`) starts one kernel per run, as papermill does.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .. import config

FRESH_ENV = "AESTUDY_FRESH_KERNELS"
LOG_DIR = ".kernels"  # under reports/<profile>/: what each warm kernel printed
RESET_TAG = "runner-reset"
TORCH_START_SEED = 67280421310721  # torch.initial_seed() in a process that never seeded it
_local = threading.local()  # this thread's WarmKernel (a Dask worker runs tasks in threads)
_all: set = set()  # every live WarmKernel of this process, shut down at its exit
_lock = threading.Lock()

SNAPSHOT = "_aestudy_fresh_kernel"  # a module (outside the project) holding the fresh kernel's settings
WARMUP_SOURCE = f"""# (runner) what a fresh kernel looks like, kept to restore it before every run
import sys as _sy, types as _ty, warnings as _w
import matplotlib as _mpl, matplotlib.pyplot as _plt
_snap = _sy.modules[{SNAPSHOT!r}] = _ty.ModuleType({SNAPSHOT!r})
_snap.rc, _snap.filters = dict(_mpl.rcParams), list(_w.filters)
del _sy, _ty, _w, _mpl, _plt, _snap
"""


def enabled() -> bool:
    return os.environ.get(FRESH_ENV, "") in ("", "0")


def reset_source(env: dict[str, str | None]) -> str:
    """The first cell of a run in a warm kernel (see the module's docstring); `env`: the
    environment variables of this run that the kernel must see (None: unset)."""
    return f"""# (runner) a fresh start for this run in a warm kernel
import os as _os, pathlib as _pl, random as _rd, sys as _sy, warnings as _w
import matplotlib as _mpl, matplotlib.pyplot as _plt, numpy as _np
_pkg = _pl.Path({str(config.PACKAGE_DIR)!r})
for _n, _m in list(_sy.modules.items()):
    _f = getattr(_m, "__file__", None)
    if _f and _pl.Path(_f).resolve().is_relative_to(_pkg):
        del _sy.modules[_n]
_plt.close("all")
_mpl.rcParams.update(_sy.modules[{SNAPSHOT!r}].rc)
_w.filters[:] = _sy.modules[{SNAPSHOT!r}].filters
getattr(_w, "_filters_mutated", getattr(_w, "_filters_mutated_lock_held", lambda: None))()
for _k, _v in {env!r}.items():
    if _v is None:
        _os.environ.pop(_k, None)
    else:
        _os.environ[_k] = _v
_os.chdir({str(config.PROJECT_ROOT)!r})
if "torch" in _sy.modules:
    _torch = _sy.modules["torch"]
    _torch.manual_seed({TORCH_START_SEED})
    _torch.set_grad_enabled(True)
    _torch.set_default_dtype(_torch.float32)
_np.random.seed(None)
_rd.seed(None)
get_ipython().reset(new_session=True)  # last: it empties the namespace, these names included
__import__("gc").collect()
try:  # Linux: the peak resident memory (VmHWM) starts again here
    __import__("pathlib").Path("/proc/self/clear_refs").write_text("5")
except OSError:
    pass
"""


class WarmKernel:
    """A started kernel; `log` receives what the kernel process prints. nbclient makes a client
    for every run (it never takes one); the clients are counted here and closed after the run."""

    def __init__(self, threads: int, log: Path, manager_class, environment):
        from jupyter_core.utils import run_sync

        self.threads, self.log, self._clients, self.runs = threads, Path(log), [], 0
        self.km = manager_class(kernel_name="python3")
        with environment(threads, self.log):  # the kernel inherits this environment
            # as nbclient starts its kernels: no IPython history file on disk
            run_sync(self.km.start_kernel)(
                cwd=str(config.PROJECT_ROOT), extra_arguments=["--HistoryManager.hist_file=:memory:"]
            )
        make_client = self.km.client

        def client(**kw):
            c = make_client(**kw)
            self._clients.append(c)
            return c

        self.km.client = client
        with _lock:
            if not _all:  # at this process's exit (pool workers too: multiprocessing runs these, not atexit)
                import multiprocessing.util

                multiprocessing.util.Finalize(None, shutdown_all, exitpriority=100)
            _all.add(self)
        kc = self.km.client()
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=120)
        reply = run_sync(kc.execute_interactive)(WARMUP_SOURCE, store_history=False, timeout=120)
        self.close_clients()
        if reply["content"]["status"] != "ok":
            self.shutdown()
            raise RuntimeError(
                f"warm kernel: {reply['content'].get('ename')}: {reply['content'].get('evalue')}"
            )

    @property
    def process(self):
        return getattr(self.km.provisioner, "process", None)

    def alive(self) -> bool:
        proc = self.process
        return proc is not None and proc.poll() is None

    def close_clients(self) -> None:
        """Close the channels of the clients made since the last call (the kernel stays)."""
        while self._clients:
            try:
                self._clients.pop().stop_channels()
            except Exception:
                pass

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        with _lock:
            _all.discard(self)
        self.close_clients()
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # already gone: nothing to release but its files
            try:
                self.km.cleanup_resources()
            except Exception:
                pass
        try:  # its runs keep what it printed for them (their kernel.log)
            self.log.unlink(missing_ok=True)
            self.log.parent.rmdir()
        except OSError:
            pass


def acquire(threads: int, log_dir: Path, manager_class, environment) -> WarmKernel:
    """This thread's warm kernel for `threads` threads, started if there is none (or it died):
    a `manager_class` kernel started inside `environment(threads, log)` (the runner's)."""
    kernel = getattr(_local, "kernel", None)
    if kernel is not None and (kernel.threads != threads or not kernel.alive()):
        discard()
        kernel = None
    if kernel is None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / f"kernel-{os.getpid()}-{threading.get_ident()}.log"
        kernel = _local.kernel = WarmKernel(threads, log, manager_class, environment)
    kernel.runs += 1
    return kernel


def discard() -> None:
    """Shut down this thread's warm kernel (after a fault: it is never reused)."""
    kernel = getattr(_local, "kernel", None)
    _local.kernel = None
    if kernel is not None:
        kernel.shutdown()


def shutdown_all() -> None:
    """Shut down every warm kernel of this process (at its exit, and after a sweep)."""
    _local.kernel = None
    with _lock:
        live = list(_all)
    for kernel in live:
        kernel.shutdown()


def log_since(kernel: WarmKernel, offset: int, dest: Path) -> None:
    """Copy what the kernel printed since byte `offset` of its log to a run's kernel.log."""
    try:
        with open(kernel.log, "rb") as f:
            f.seek(offset)
            data = f.read()
        if data:
            dest.write_bytes(data)
    except OSError:
        pass


def log_size(kernel: WarmKernel) -> int:
    try:
        return kernel.log.stat().st_size
    except OSError:
        return 0
