"""Notebook surgery around a run: the runner's cells added before execution (the imported-modules
cell last, a warm kernel's reset cell first) and taken out of the executed notebook again."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .. import config
from . import kernels

MODULES_FILE = ".modules.json"
MODULES_TAG = "runner-modules"


def modules_cell_source(out_dir: str) -> str:
    return f"""# (runner) the project modules this kernel imported, for the cache key (the runner adds their digests)
import json as _js, pathlib as _pl, sys as _sy
_root, _pkg = _pl.Path({str(config.PROJECT_ROOT)!r}), _pl.Path({str(config.PACKAGE_DIR)!r})
_mods = sorted({{_pl.Path(_f).resolve().relative_to(_root).as_posix() for _m in list(_sy.modules.values())
                if (_f := getattr(_m, "__file__", None)) and _pl.Path(_f).resolve().is_relative_to(_pkg)}})
(_pl.Path({out_dir!r}) / {MODULES_FILE!r}).write_text(_js.dumps(_mods))
"""


def notebook_for(path: str, out_dir: str, reset: str | None = None):
    """The notebook to execute: the stage's, with the cell that records the imported modules
    last and, in a warm kernel, the cell that gives the run a fresh start first (`reset`)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)

    def runner_cell(source: str, tag: str):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = [tag]
        if nb.nbformat_minor < 5:  # cell ids came with nbformat 4.5
            cell.pop("id", None)
        return cell

    nb.cells.append(runner_cell(modules_cell_source(out_dir), MODULES_TAG))
    if reset is not None:
        nb.cells.insert(0, runner_cell(reset, kernels.RESET_TAG))
    return nb


def strip_runner_cells(path: Path, stopped: str = "") -> None:
    """Take the runner's cell out of an executed notebook; `stopped` (why a run was stopped
    outside its code: its kernel died, its time ran out) goes into a first cell, the way
    papermill marks a cell that raised."""
    import nbformat

    from ..files import atomic_write_bytes

    nb = nbformat.read(path, as_version=4)
    nb.cells = [
        c
        for c in nb.cells
        if not {MODULES_TAG, kernels.RESET_TAG} & set(c.get("metadata", {}).get("tags", []))
    ]
    _note_data_dir(nb, os.environ.get("DATA_DIR"))
    if stopped:
        cell = nbformat.v4.new_markdown_cell(
            f'<span style="color:red; font-size:1.5em">Run stopped: {stopped}; '
            "the cells below are those executed until then.</span>"
        )
        if nb.nbformat_minor < 5:
            cell.pop("id", None)
        nb.cells.insert(0, cell)
    atomic_write_bytes(path, nbformat.writes(nb).encode())


def _note_data_dir(nb, env: str | None) -> None:
    """The injected parameters show the parameter file's `data_dir`; where DATA_DIR won over it
    (it always does when set), a comment under it says where the data were read instead."""
    if not env:
        return
    for cell in nb.cells:
        injected = "injected-parameters" in cell.get("metadata", {}).get("tags", [])
        if injected and re.search(r"^data_dir = ", cell.source, re.M):
            cell.source = f"{cell.source.rstrip()}\n# DATA_DIR={env} was set: the data were read there, not from data_dir"
