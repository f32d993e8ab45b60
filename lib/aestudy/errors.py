"""One base for the errors this project raises on purpose, each with the command's exit status.

`aestudy.cli` maps a `StudyError` to its `exit_code` and its message on one line (`error: ...`),
in one place; each error also derives from the builtin it was before (`ParamsError` is a
`ValueError`, `WriteFailed` an `OSError`, ...), so `except ValueError` keeps catching it.

| exit | errors |
| --- | --- |
| 2 (bad input: parameters, a command-line value, the dataset, the cluster) | `messages.ParamsError` (and `runner.cluster.NotShared`, `runner.slurm.SlurmError`), `science.data.DataNotFoundError`, `science.training.DeviceMissing`, `datafiles.DataDamaged` |
| 1 (a run or a file failed) | `files.WriteFailed`, `files.CorruptArtifact`, `metrics.ContractBroken`, `report.pdf.PdfToolMissing`, `report.html.RenderToolMissing` |
"""

from __future__ import annotations

BAD_INPUT = 2  # the parameter file, a command-line value, the dataset: nothing was run
FAILED = 1  # a run or a file failed; completed runs are kept
INTERRUPTED = 130


class StudyError(Exception):
    """An error the command reports as one line (`error: <message>`) and exits with `exit_code`."""

    exit_code = FAILED


class BadInput(StudyError):
    """The input is wrong (exit 2): a parameter, a command-line value, the dataset, the cluster."""

    exit_code = BAD_INPUT

    def _render_traceback_(self):  # IPython shows this instead of a traceback: one line in a notebook
        return [f"{type(self).__name__}: {self}"]
