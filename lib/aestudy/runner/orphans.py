"""No process the runner starts outlives it: a runner killed with SIGKILL (a crash, `kill -9`,
the out-of-memory killer) takes its notebook kernels and pool workers with it.

Left alone they would live on: a pool worker whose parent is gone keeps executing its run and
then waits forever for more work (its kernel with it), and a run it finishes writes into
reports/ while the next command, having taken over the profile's lock, executes the same run
into the same folder. On Linux each of them asks the kernel to SIGKILL it when its parent
ends (prctl PR_SET_PDEATHSIG) and checks that the parent has not already ended. The signal
follows the parent *thread* that started the process: kernels are started by the thread that
executes their run, which also shuts them down, and pool workers by the thread that submits to
the pool, which shuts the pool down; so neither thread ends before its children. Elsewhere only
ipykernel's own parent poller (JPY_PARENT_PID, once a second) stops a kernel, not a worker.
"""

from __future__ import annotations

import os
import sys

PR_SET_PDEATHSIG = 1
SIGKILL = 9
SUPPORTED = sys.platform.startswith("linux")

# run as `python -c PRELUDE PARENT_PID CMD...`: set the death signal, check the parent, become CMD
# (the setting survives exec). Self-contained: it must start fast and import nothing of the project.
PRELUDE = (
    "import ctypes, os, sys\n"
    "try:\n"
    f"    ctypes.CDLL(None, use_errno=True).prctl({PR_SET_PDEATHSIG}, {SIGKILL}, 0, 0, 0)\n"
    "except (OSError, AttributeError):\n"
    "    pass\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when its parent ends (Linux); exit at once if it has already ended
    (a pool worker's initializer: `initargs=(os.getpid(),)` in the parent)."""
    if not SUPPORTED:
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)


def dies_with_this_process(cmd: list[str]) -> list[str]:
    """`cmd` (a kernel's command line) started so that it is killed when this process ends."""
    if not SUPPORTED:
        return list(cmd)
    return [sys.executable, "-c", PRELUDE, str(os.getpid()), *cmd]
