"""A long loop's progress, shown where someone is watching: under the runner, told to its display
through `progress_file`; elsewhere (JupyterLab, papermill by hand), as a tqdm bar in the cell's
output, so that a cell that works for minutes does not look hung. Under the runner no bar is drawn:
it would only fill the executed notebook with stderr lines."""

from __future__ import annotations

from . import progress_file


class LoopProgress:
    """`add(n)` after each `n` units of `total` are done (batches, fits, models). `shown`: draw the
    bar (None: unless the runner shows the run's progress). The runner is told in units of
    `runner_unit`, each `per` of the loop's (an epoch of batches), so its display reads 'epoch 2/6'."""

    def __init__(
        self, total: int, unit: str, desc: str, shown: bool | None = None, per: int = 1, runner_unit: str = ""
    ):
        self.total, self.done, self.per = total, 0, max(1, per)
        self.runner_unit = runner_unit or unit
        self.bar = None
        if shown if shown is not None else not progress_file.active():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, mininterval=1.0)

    def add(self, n: int = 1) -> None:
        self.done += n
        # throttled by time; a no-op without the runner
        progress_file.report(self.done / self.per, self.total / self.per, self.runner_unit)
        if self.bar is not None:
            self.bar.update(n)
            if self.done >= self.total:
                self.bar.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def note(self, **facts) -> None:
        """Facts shown after the bar (an epoch's test error)."""
        if self.bar is not None:
            self.bar.set_postfix(**facts)
