"""The kernel manager a run's papermill execution uses, and the environment its kernel starts in:
local IPC sockets, the kernel's own output to the run's kernel.log, a kernel that dies with the
runner (`orphans`), this checkout's lib/ first on PYTHONPATH and its thread share."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .. import config
from . import orphans, watch

KERNEL_MANAGER = "aestudy.runner.kernel_manager.LocalKernelManager"
KERNEL_LOG_ENV = "AESTUDY_KERNEL_LOG"
SOCKET_PREFIX = "aestudy-kernel-"  # in the temporary folder: <prefix><12 hex>-<port>, one per channel


def socket_base() -> str:
    """A kernel's own socket path stem (kernels of parallel workers must never share one)."""
    import tempfile
    import uuid

    return os.path.join(tempfile.gettempdir(), f"{SOCKET_PREFIX}{uuid.uuid4().hex[:12]}")


def remove_stale_sockets(folder: str | None = None) -> int:
    """Remove the socket files of kernels that no longer exist: a kernel killed with its runner
    (kill -9, a cancelled SLURM job) leaves its five channel files behind, since nothing outlives
    it to remove them. A socket nobody listens on refuses a connection: only those go, so the
    kernels of other sweeps running now keep theirs. Returns how many were removed."""
    import socket
    import stat
    import tempfile

    removed = 0
    for path in Path(folder or tempfile.gettempdir()).glob(f"{SOCKET_PREFIX}*"):
        try:
            if not stat.S_ISSOCK(path.lstat().st_mode):
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(str(path))
        except ConnectionRefusedError:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def local_kernel_manager():
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        """Kernels talk over local IPC sockets: nothing listens on TCP ports, and ipykernel's
        'running over TCP without encryption' warning goes away. What the kernel process itself
        prints (ipykernel's log lines) goes to the run's own kernel.log, not to the console. A
        kernel dies with the process that started it (`orphans`)."""

        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", socket_base())
            super().__init__(**kwargs)
            # created in the thread that executes the run (launched maybe in another one)
            self.run_watch = watch.current()

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
        return local_kernel_manager()
    raise AttributeError(name)


@contextlib.contextmanager
def kernel_env(threads: int, log: Path):
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
