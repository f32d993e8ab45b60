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


def local_kernel_manager():
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
            kwargs.setdefault(
                "ip", os.path.join(tempfile.gettempdir(), f"aestudy-kernel-{uuid.uuid4().hex[:12]}")
            )
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
