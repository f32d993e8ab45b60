"""The committed notebooks are in the form JupyterLab saves (aestudy.notebooks), so `make lab` opens
them unmodified; tests/test_jupyterlab.py checks that in a real JupyterLab."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from aestudy import cli, notebooks

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
FIX = "run `python -m lib tidy-notebooks` (metadata and format only; see lib/aestudy/notebooks.py)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_is_tidy_and_has_no_outputs(path):
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    ran = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not ran, f"{path.name}: cells {ran} hold outputs or execution counts: {FIX}"
    # judged for the Python it was tidied for: JupyterLab writes the kernel's version, whatever it is
    version = notebooks.committed_version(text)
    assert version, f"{path.name} records no kernel Python version: {FIX}"
    assert text == notebooks.normal_text(text, version), f"{path.name} is not as JupyterLab saves it: {FIX}"


def test_committed_notebooks_record_one_python_version():
    versions = {p.name: notebooks.committed_version(p.read_text(encoding="utf-8")) for p in NOTEBOOKS}
    assert len(set(versions.values())) == 1, f"{versions}: {FIX} (all at once, with one Python)"


def _untidy_notebook() -> dict:
    """What a notebook looked like before: nbformat 4.4, no ids, a bare kernelspec, an output."""
    code = {
        "cell_type": "code",
        "execution_count": 3,
        "metadata": {"tags": ["parameters"]},
        "outputs": [{"name": "stdout", "output_type": "stream", "text": ["hi\n"]}],
        "source": "x = 1\ny = 2",
    }
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
            code,
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": "x = 1\ny = 2",
                "id": "bad id!",
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "custom": {"kept": True},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }


def test_tidy_changes_metadata_and_format_only_and_is_idempotent():
    import nbformat

    before = _untidy_notebook()
    original = copy.deepcopy(before)
    after = notebooks.tidy(before, "3.11.7")
    assert before == original  # not changed in place
    assert [(c["cell_type"], "".join(c["source"])) for c in after["cells"]] == [
        (c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
        for c in original["cells"]
    ]
    assert after["cells"][1]["metadata"] == {"tags": ["parameters"]}  # papermill's tag stays
    assert after["cells"][1]["outputs"] == [] and after["cells"][1]["execution_count"] is None
    assert after["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert after["metadata"]["language_info"]["version"] == "3.11.7"
    assert after["metadata"]["custom"] == {"kept": True}
    ids = [c["id"] for c in after["cells"]]
    assert len(set(ids)) == 3 and "bad id!" not in ids
    text = notebooks.dumps(after)
    assert notebooks.normal_text(text, "3.11.7") == text
    assert notebooks.tidy(json.loads(text), "3.11.7")["cells"] == after["cells"]  # ids are kept
    nbformat.validate(nbformat.reads(text, as_version=4))
    assert (
        nbformat.writes(nbformat.reads(text, as_version=4)) + "\n" == text
    )  # the layout nbformat.write gives


def test_tidy_notebooks_command_checks_and_fixes(tmp_path, capsys):
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(_untidy_notebook()))
    assert cli.main(["tidy-notebooks", "--check", str(path)]) == 1
    err = capsys.readouterr().err  # the mend names the file given (without one it tidies notebooks/)
    assert "x.ipynb: not as JupyterLab saves it (run: python -m lib tidy-notebooks " in err
    assert err.rstrip().endswith("x.ipynb)")
    assert cli.main(["tidy-notebooks", "--python-version", "3.12.1", str(path)]) == 0
    assert notebooks.committed_version(path.read_text()) == "3.12.1"
    assert cli.main(["tidy-notebooks", "--check", "--python-version", "3.12.1", str(path)]) == 0
    mtime = path.stat().st_mtime_ns
    assert cli.main(["tidy-notebooks", "--python-version", "3.12.1", str(path)]) == 0  # nothing to do
    assert path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize(
    "content, said",
    [
        (None, "no such notebook"),
        (b"\xff\xfe", "not a notebook (UnicodeDecodeError"),
        (b'{"a": 1}', "no list of cells"),
    ],
    ids=["missing", "binary", "not-a-notebook"],
)
def test_tidy_notebooks_on_a_file_that_is_no_notebook_is_one_line(tmp_path, capsys, content, said):
    path = tmp_path / "x.ipynb"
    if content is not None:
        path.write_bytes(content)
    for args in (["--check", str(path)], [str(path)]):
        assert cli.main(["tidy-notebooks", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}: ") and said in err and len(err.splitlines()) == 1, err
