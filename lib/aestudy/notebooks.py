"""The committed notebooks' normal form: what JupyterLab itself would save, so that opening one in
`make lab` leaves it unmodified (no dirty mark, nothing to save or to commit).

JupyterLab (4.x, with ipykernel) rewrites two things of a notebook the moment it opens it: the
kernelspec's `display_name` (the installed kernel's, "Python 3 (ipykernel)") and, once the kernel
answers, the whole `language_info` the kernel reports, Python version included. Everything else is
kept as the file has it. `tidy` writes those two the way JupyterLab will, and also puts each
notebook in nbformat 4.5 with stable cell ids (the format JupyterLab and nbformat create today),
without outputs or execution counts, in the layout `nbformat.write` uses (indent 1, sorted keys,
multi-line strings as lists of lines, a trailing newline). Only metadata and format change, never
a cell's type or source (what the runner hashes).

`python -m lib tidy-notebooks` applies it to notebooks/*.ipynb; `--check` only names the files
not in normal form (exit 1). `tests/test_notebooks_tidy.py` keeps the committed ones tidy.
"""

from __future__ import annotations

import copy
import hashlib
import json
import platform
import re
import sys
from pathlib import Path

from . import config
from .files import atomic_write_bytes

#: what ipykernel's installed kernelspec says (JupyterLab copies it into the notebook on open)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5 cell ids
_CODE_KEYS = ("cell_type", "execution_count", "id", "metadata", "outputs", "source")
_TEXT_KEYS = ("attachments", "cell_type", "id", "metadata", "source")


def language_info(python_version: str | None = None) -> dict:
    """`language_info` as ipykernel reports it in its kernel_info reply (JupyterLab stores it
    verbatim); the version is the kernel's Python (this interpreter's unless given)."""
    return {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": python_version or platform.python_version(),
    }


def tidy(nb: dict, python_version: str | None = None) -> dict:
    """The notebook in normal form (a new dict; `nb` is not changed)."""
    nb = copy.deepcopy(nb)
    meta = dict(nb.get("metadata") or {})
    meta["kernelspec"] = dict(KERNELSPEC)
    meta["language_info"] = language_info(python_version)
    cells, seen = [], set()
    for index, cell in enumerate(nb.get("cells", [])):
        kind = cell["cell_type"]
        out = {k: v for k, v in cell.items() if k in (_CODE_KEYS if kind == "code" else _TEXT_KEYS)}
        out["metadata"] = cell.get("metadata") or {}
        out["source"] = _lines(cell.get("source", ""))
        if kind == "code":
            out["execution_count"], out["outputs"] = None, []
        out["id"] = _cell_id(cell, index, seen)
        seen.add(out["id"])
        cells.append(out)
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def dumps(nb: dict) -> str:
    """The text `nbformat.write` (and so the Jupyter server, on save) gives a notebook."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def normal_text(text: str, python_version: str | None = None) -> str:
    """A notebook file's text in normal form."""
    return dumps(tidy(json.loads(text), python_version))


def committed_version(text: str) -> str | None:
    """The Python version a notebook file was tidied for (its language_info.version), if any."""
    return (json.loads(text).get("metadata", {}).get("language_info") or {}).get("version")


def untidy(paths, python_version: str | None = None) -> list[Path]:
    """The files among `paths` that are not in normal form."""
    return [
        Path(p) for p in paths if (t := Path(p).read_text(encoding="utf-8")) != normal_text(t, python_version)
    ]


def tidy_files(paths, python_version: str | None = None) -> list[Path]:
    """Rewrite every file not in normal form (each read right before it is written); the changed ones."""
    changed = []
    for path in map(Path, paths):
        text = path.read_text(encoding="utf-8")
        new = normal_text(text, python_version)
        if new != text:
            atomic_write_bytes(path, new.encode("utf-8"))
            changed.append(path)
    return changed


def _check_notebook(path: Path) -> None:
    """ParamsError (one line naming the file) unless `path` holds a notebook: a JSON object with cells."""
    from .messages import ParamsError

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such notebook") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ParamsError(f"{path}: not a notebook ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ParamsError(f"{path}: not a notebook (no list of cells)")


def command(files=(), check: bool = False, python_version: str | None = None) -> int:
    """`python -m lib tidy-notebooks [--check] [--python-version X.Y.Z] [FILE ...]` (default: notebooks/*.ipynb)."""
    paths = list(files) or sorted(config.NOTEBOOKS.glob("*.ipynb"))
    for p in paths:
        _check_notebook(Path(p))
    if check:
        bad = untidy(paths, python_version)
        for p in bad:
            mend = "python -m lib tidy-notebooks" + (f" {config.relative(p)}" if files else "")
            print(f"{config.relative(p)}: not as JupyterLab saves it (run: {mend})", file=sys.stderr)
        return 1 if bad else 0
    for p in tidy_files(paths, python_version):
        print(f"tidied {config.relative(p)}")
    return 0


def _lines(source) -> list[str]:
    text = "".join(source) if isinstance(source, list) else source
    return text.splitlines(keepends=True)


def _cell_id(cell: dict, index: int, seen: set) -> str:
    """The cell's own id when valid and unused, else one derived from its place and source (the
    same every time tidy runs, so tidying twice changes nothing)."""
    own = cell.get("id")
    if isinstance(own, str) and _ID.match(own) and own not in seen:
        return own
    digest = hashlib.sha256(
        f"{index}\0{cell['cell_type']}\0{''.join(_lines(cell.get('source', '')))}".encode()
    ).hexdigest()
    for n in range(8, 65):
        if digest[:n] not in seen:
            return digest[:n]
    raise ValueError(f"cannot find a free id for cell {index}")
