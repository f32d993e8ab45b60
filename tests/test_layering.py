"""What each room may know: the on-disk format's paths are spelled in `aestudy.ondisk` alone, and
`aestudy compare` and `aestudy status` never import torch, nor does the runner of a sweep (seconds per
command)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructed import _ae, _good_error, _study_like, _transfer, _write_profile

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / "lib" / "aestudy"
FILES = {
    "runs.json",
    "params.yaml",
    "metrics.json",
    "complete.json",
    "failed.json",
}  # under a profile or a run
FOLDERS = {"runs", "tables"}  # under a profile


def _docstrings(tree) -> set[int]:
    nodes = [
        tree,
        *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))),
    ]
    return {
        id(n.body[0].value)
        for n in nodes
        if n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
    }


def _spelled(tree) -> list[tuple[int, str]]:
    """(line, literal) of every string that names a file or folder of the on-disk format: a record's
    name anywhere, `runs`/`tables` as a path part (`pdir / "runs"`, "tables/.*.tmp")."""
    docs, found = _docstrings(tree), []
    parts = {
        id(side)
        for n in ast.walk(tree)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)
        for side in (n.left, n.right)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in docs:
            continue
        text = node.value
        if any(ch.isspace() for ch in text):  # a message or help text that names a file
            continue
        if (
            text in FILES
            or (text in FOLDERS and id(node) in parts)
            or any(text.startswith(f"{f}/") or f"/{f}/" in text for f in FOLDERS)
        ):
            found.append((node.lineno, text))
    return found


def test_paths_of_the_on_disk_format_are_spelled_in_ondisk_alone():
    spelled = {
        f"{p.relative_to(PACKAGE)}:{line}": text
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.name != "ondisk.py"
        for line, text in _spelled(ast.parse(p.read_text(), str(p)))
    }
    assert spelled == {}, "use aestudy.ondisk's names (RUNS_JSON, runs_dir(), tables_dir(), ...)"


def test_the_check_finds_what_it_looks_for():
    tree = ast.parse(
        '"""runs.json"""\nx = pdir / "runs"\ny = Path(d) / "metrics.json"\nz = pdir.glob("tables/*.csv")\n'
        'w = {"runs": []}\nmsg = "no tables/ in x"\n'
    )
    assert _spelled(tree) == [(2, "runs"), (3, "metrics.json"), (4, "tables/*.csv")]


# ------------------------------------------------------------------ commands that never import torch

NO_TORCH = """\
import importlib.abc, runpy, sys, traceback
culprit = []
class Watch(importlib.abc.MetaPathFinder):  # who imports torch first: the innermost module of ours outside science
    def find_spec(self, name, path, target=None):
        if name == "torch" and not culprit:
            ours = [f for f in traceback.extract_stack() if "/lib/aestudy/" in f.filename and "/science/" not in f.filename]
            culprit.append(f"{ours[-1].filename.split('/lib/aestudy/')[1]}:{ours[-1].lineno}" if ours else "?")
sys.meta_path.insert(0, Watch())
sys.argv = ["aestudy", *sys.argv[1:]]
try:
    runpy.run_module("aestudy", run_name="__main__")
except SystemExit as exc:
    print(f"exit {exc.code}")
print(f"torch imported by {culprit[0]}" if "torch" in sys.modules else "no torch")
"""


def _no_torch(*argv) -> str:
    """The command's output, its exit status, then "no torch" or who imported torch."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "lib"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("AESTUDY_ROOT", None)
    done = subprocess.run(
        [sys.executable, "-c", NO_TORCH, *map(str, argv)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert last == "no torch", done.stdout + done.stderr
    return done.stdout


def test_compare_never_imports_torch(tmp_path):
    full = _write_profile(tmp_path / "full", "full", _ae(_good_error), _transfer(_study_like))
    default = _write_profile(
        tmp_path / "default", "default", _ae(_good_error, seeds=(0,)), _transfer(_study_like)
    )
    out = _no_torch("compare", full, default)
    assert "exit 0" in out and "agree" in out, out


def test_status_never_imports_torch(tmp_reports):
    out = _no_torch("status", "params/smoke.yaml")
    assert "exit 0" in out, out


@pytest.mark.slow
def test_a_sweep_never_imports_torch_in_the_runner(tmp_reports, mnist_dir, monkeypatch):
    """The runner reads the dataset's checksum and hands its folder to the workers without torch
    (2 s of every command, an up-to-date one included): only the kernels import it."""
    monkeypatch.setenv("DATA_DIR", str(mnist_dir))
    out = _no_torch("run", "params/smoke.yaml", "--stage", "theory", "--workers", "1", "--no-render")
    assert "exit 0" in out, out
    assert json.loads((tmp_reports / "smoke" / "runs.json").read_text())["runs"][0]["status"] == "ok"


def test_no_test_only_switch_in_the_package():
    """The runner checks every run's contract; the tests' stand-in notebooks keep it
    (conftest.contract_cell) instead of an environment variable the package reads."""
    assert not [p for p in PACKAGE.rglob("*.py") if "STAND_IN" in p.read_text()]
