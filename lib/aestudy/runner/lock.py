"""One runner per profile: `run` and `render` hold a lock on reports/<profile>/.

The lock is an OS file lock (filelock: fcntl on Unix), so the kernel releases it when its holder
dies, however it dies: a lock left by a killed process is simply taken. Beside it, the holder
writes who it is, for the one-line message a second command prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout

from ..files import atomic_write_bytes
from ..schema import ParamsError

LOCK = ".lock"
OWNER = ".lock.json"


@contextlib.contextmanager
def profile_lock(pdir: Path, command: str):
    """Hold the profile's lock for the block; ParamsError (exit 2) at once when another process holds it."""
    pdir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(pdir / LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ParamsError(
            f"{pdir}: in use by {_owner(pdir / OWNER)}; wait for it to finish "
            "(or stop it) and run the command again"
        ) from None
    try:
        with contextlib.suppress(OSError):  # only for the message; a full disk must not stop here
            atomic_write_bytes(
                pdir / OWNER,
                json.dumps(
                    {"pid": os.getpid(), "command": command, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
                ).encode(),
            )
        yield
    finally:
        with contextlib.suppress(OSError):
            (pdir / OWNER).unlink(missing_ok=True)
        lock.release()


def _owner(path: Path) -> str:
    try:
        o = json.loads(path.read_text())
        return f"process {o['pid']} (`{o['command']}`, since {o['since']})"
    except (OSError, ValueError, KeyError):
        return "another process"


def command_line() -> str:
    return " ".join(["python -m lib", *sys.argv[1:]])
