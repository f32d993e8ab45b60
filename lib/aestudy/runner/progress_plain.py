"""The sweep's progress as plain lines (CI, a log file, a pipe): one when a run starts, one when it
ends (with the sweep's count and ETA), and at most one progress line per run every
`PLAIN_EVERY_S` seconds. The renderer only prints what `progress.Display` hands it."""

from __future__ import annotations

PLAIN_EVERY_S = 20.0  # at most one progress line per run this often


class PlainView:
    live = False

    def __init__(self, stream, every_s: float | None = None):
        self.stream, self.every_s = stream, every_s
        self.last_line: dict[str, float] = {}  # run -> when its last progress line was printed

    def begin(self, title: str, total: int, up_to_date: int = 0) -> None:
        runs = f"{total} run" + ("" if total == 1 else "s")
        self._print(f"{title}: {runs}" + (f", {up_to_date} of them up to date" if up_to_date else ""))

    def started(self, name: str, now: float, stamp: str, why: str = "") -> None:
        self.last_line[name] = now
        self._print(f"{stamp} start   {name}" + (f"  ({why})" if why else ""))

    def progress(self, name: str, fraction: float, words: str, now: float, stamp: str) -> None:
        every = PLAIN_EVERY_S if self.every_s is None else self.every_s
        if now - self.last_line.get(name, now) >= every:
            self.last_line[name] = now
            self._print(f"{stamp} running {name}  {words}")

    def overall(self, done: int, words: str) -> None:
        pass  # said on each run's closing line

    def finished(self, name: str, status: str, line: str | None, overall: str, stamp: str) -> None:
        self.last_line.pop(name, None)
        if line is not None:
            self._print(f"{stamp} {status:<7} {line}   ({overall})")

    def end(self, title: str, summary: str, counts: dict) -> None:
        said = ", ".join(f"{n} {s}" for s, n in counts.items())
        self._print(f"{title}: {summary}" + (f" ({said})" if said else ""))

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)
