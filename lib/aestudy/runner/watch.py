"""The watchdog of one run attempt: it knows the kernel's process, stops it at the run's time
limit (SIGINT, then SIGKILL to its process group) and says how it ended."""

from __future__ import annotations

import os
import signal
import threading

TIMEOUT_GRACE_S = 5.0  # after the interrupt at a time limit, how long before the kernel is killed
_current = threading.local()  # the Watch of the run this thread executes (read by the kernel manager)


def current():
    """The Watch of the attempt this thread executes (None outside one)."""
    return getattr(_current, "watch", None)


class Watch:
    """One attempt's kernel: its process (recorded by LocalKernelManager at launch), how it
    ended, and the watchdog that stops it at the time limit: SIGINT to the kernel (the cell
    raises KeyboardInterrupt and papermill saves the notebook), then SIGKILL to its process
    group every `grace` seconds until the execution has returned."""

    def __init__(self, timeout: float | None = None, grace: float | None = None):
        self.timeout, self.grace = timeout, TIMEOUT_GRACE_S if grace is None else grace
        self.process = None  # the kernel's subprocess.Popen
        self.fired = False  # the time limit passed
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

    def exit_signal(self) -> int | None:
        """The signal that ended the kernel process (None while it lives or when it exited)."""
        code = self.process.poll() if self.process is not None else None
        return -code if code is not None and code < 0 else None

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
