"""A long loop's progress, shown where someone is watching: under the runner, told to its display
through `progress_file`; elsewhere (JupyterLab, papermill by hand), as a tqdm bar in the cell's
output, so that a cell that works for minutes does not look hung. Under the runner no bar is drawn:
it would only fill the executed notebook with stderr lines."""

from __future__ import annotations

from . import progress_file


class LoopProgress:
    """`add(n)` after each `n` units of `total` are done (steps, fits)."""

    def __init__(self, total: int, unit: str, desc: str):
        self.total, self.unit, self.done = total, unit, 0
        self.bar = None
        if not progress_file.active():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, mininterval=1.0)

    def add(self, n: int = 1) -> None:
        self.done += n
        progress_file.report(
            self.done, self.total, self.unit
        )  # throttled by time; a no-op without the runner
        if self.bar is not None:
            self.bar.update(n)
            if self.done >= self.total:
                self.bar.close()
