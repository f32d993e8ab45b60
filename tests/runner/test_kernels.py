"""Warm kernels: a worker reuses its kernel from run to run, and each run still starts as in a
fresh kernel (same numbers, same recorded imports, nothing left from the run before)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from aestudy.runner import execute, kernels
from conftest import REPO_ROOT

FIRST = """import numpy, torch
import aestudy.experiments.theory.run
leak = 42
torch.manual_seed(123); torch.set_grad_enabled(False)
import matplotlib; matplotlib.rcParams["lines.linewidth"] = 9.0
import os; os.environ["AESTUDY_PROGRESS"] = "/nowhere"
"""
SECOND = """import json, os, sys, torch, matplotlib
state = {"leak": "leak" in globals(), "theory": "aestudy.experiments.theory.run" in sys.modules,
         "seed": torch.initial_seed(), "grad": torch.is_grad_enabled(),
         "linewidth": matplotlib.rcParams["lines.linewidth"], "progress": os.environ.get("AESTUDY_PROGRESS"),
         "history": len(In)}
json.dump(state, open(out, "w"))
"""


def _notebook(tmp_path, name: str, source: str):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("out = None"), nbformat.v4.new_code_cell(source)]
    )
    nb.cells[0].metadata["tags"] = ["parameters"]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _run(tmp_path, name, source, monkeypatch, stage="x"):
    """execute._attempt on a one-off notebook, as the runner executes a run."""
    out = tmp_path / "reports" / "p" / "runs" / stage / name
    run = SimpleNamespace(
        stage=stage,
        run_id=name,
        dir=str(out),
        grid={},
        notebook=str(_notebook(tmp_path, name, source)),
        params={"out": str(tmp_path / f"{name}.json")},
        inputs={"x": name},
        upstream={},
    )
    monkeypatch.setattr(execute.records, "key", lambda inputs, modules: "k")
    (res,), kind = execute._attempt(run, threads=1, timeout=None)  # one run: one result
    return res, kind


@pytest.mark.slow
def test_a_run_in_a_warm_kernel_sees_nothing_of_the_run_before(tmp_path, monkeypatch):
    monkeypatch.delenv(kernels.FRESH_ENV, raising=False)
    monkeypatch.setenv("AESTUDY_PROGRESS", str(tmp_path / "progress.json"))
    try:
        res, _ = _run(tmp_path, "first", FIRST, monkeypatch)
        assert res["status"] == "ok", res
        kernel = kernels._local.kernel
        res, _ = _run(tmp_path, "second", SECOND, monkeypatch)
        assert res["status"] == "ok", res
        assert kernels._local.kernel is kernel and kernel.alive()  # the same kernel, still up
        state = json.loads((tmp_path / "second.json").read_text())
        assert state == {
            "leak": False,
            "theory": False,
            "seed": kernels.TORCH_START_SEED,
            "grad": True,
            "linewidth": 1.5,
            "progress": str(tmp_path / "progress.json"),
            "history": 4,
        }
        # the runner's own cells are taken out of the executed notebook
        nb = nbformat.read(tmp_path / "reports/p/runs/x/second/x.ipynb", as_version=4)
        assert len(nb.cells) == 3 and nb.cells[0].source == "out = None" and nb.cells[2].source == SECOND
        assert "injected-parameters" in nb.cells[1].metadata["tags"]  # papermill's, between them
        # what the run imported from the project, for its key: only its own modules
        first = json.loads((tmp_path / "reports/p/runs/x/first/complete.json").read_text())["modules"]
        second = json.loads((tmp_path / "reports/p/runs/x/second/complete.json").read_text())["modules"]
        assert "lib/aestudy/experiments/theory/run.py" in first and not second
    finally:
        kernels.shutdown_all()
    assert kernels._local.kernel is None and not kernel.alive()


@pytest.mark.slow
def test_a_kernel_whose_run_failed_is_never_reused(tmp_path, monkeypatch):
    monkeypatch.delenv(kernels.FRESH_ENV, raising=False)
    try:
        res, _ = _run(tmp_path, "ok", "x = 1", monkeypatch)
        first = kernels._local.kernel
        res, kind = _run(tmp_path, "bad", "raise ValueError('boom')", monkeypatch)
        assert res["status"] == "failed" and kind == execute.ERROR and "boom" in res["error"]
        assert kernels._local.kernel is None and not first.alive()
        res, _ = _run(tmp_path, "after", "x = 2", monkeypatch)
        assert res["status"] == "ok" and kernels._local.kernel is not first
    finally:
        kernels.shutdown_all()


@pytest.mark.slow
def test_fresh_kernels_start_one_kernel_per_run(tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.FRESH_ENV, "1")
    for name in ("a", "b"):
        res, _ = _run(tmp_path, name, "import os; open(out, 'w').write(str(os.getpid()))", monkeypatch)
        assert res["status"] == "ok"
    assert kernels._local.__dict__.get("kernel") is None
    assert (tmp_path / "a.json").read_text() != (tmp_path / "b.json").read_text()


def _tables(pdir) -> dict:
    out = {}
    for csv in sorted((pdir / "tables").glob("*.csv")):
        df = pd.read_csv(csv)
        out[csv.stem] = (
            df.drop(columns=[c for c in ("seconds", "status") if c in df])
            .astype(object)
            .fillna("NA")
            .to_dict("records")
        )
    return out


@pytest.mark.slow
def test_warm_and_fresh_kernels_give_the_same_tables_and_cache_keys(smoke_profile, tmp_path):
    """The shared smoke sweep ran in warm kernels (2 workers), each run after others in the same
    kernel. A copy of it re-executes one run of every stage downstream of the autoencoders that
    trains or measures (their completion records removed) in a fresh kernel per run: the same
    numbers in every table and the same key (imported modules included) for every run."""
    fresh = tmp_path / "reports" / "smoke"
    shutil.copytree(smoke_profile["dir"], fresh)
    env = {**smoke_profile["env"], "REPORTS_DIR": str(tmp_path / "reports")}
    stages = ["correlate", "protocol", "transfer", "semisup"]
    redo = ["correlate/all", "protocol/all", "transfer/d10-nc1-s1", "semisup/all"]
    for name in redo:
        (fresh / "runs" / name / "complete.json").unlink()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lib",
            "run",
            str(smoke_profile["params"]),
            "--workers",
            "2",
            "--fresh-kernels",
            "--no-render",
            *(f"--stage={s}" for s in stages),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((fresh / "runs.json").read_text())["runs"]
    assert sorted(r["stage"] + "/" + r["run_id"] for r in record if r["status"] == "ok") == sorted(redo)
    warm = smoke_profile["dir"]
    a, b = _tables(warm), _tables(fresh)
    for stage in stages:
        diff = [(x, y) for x, y in zip(a[stage], b[stage]) if x != y]
        assert len(a[stage]) == len(b[stage]) and not diff, (stage, diff[:1])
    redone = [fresh / "runs" / name / "complete.json" for name in redo]
    for done in redone:
        x, y = json.loads((warm / done.relative_to(fresh)).read_text()), json.loads(done.read_text())
        assert x["finished"] != y["finished"] and (x["key"], x["modules"]) == (y["key"], y["modules"]), done
        assert x["kernel"]["run"] > 1  # in the warm sweep, after another run in its kernel
    # the warm sweep started one kernel per worker, the fresh one a kernel per run
    pids = {json.loads(p.read_text())["kernel"]["pid"] for p in warm.glob("runs/*/*/complete.json")}
    assert 1 <= len(pids) <= 2 and len(list(warm.glob("runs/*/*/complete.json"))) > 2
    assert len({json.loads(p.read_text())["kernel"]["pid"] for p in redone}) == len(redone)
    assert not (warm / kernels.LOG_DIR).exists()  # the warm kernels' logs went to their runs' kernel.log


@pytest.mark.slow
def test_a_module_edited_while_a_run_executes_leaves_the_run_stale(tmp_path, monkeypatch):
    """The key takes each imported module's digest from before the run: the kernel hashes the
    files at the end, when an edit made meanwhile would already be there."""
    from aestudy.runner import records

    before = records.package_digests()
    monkeypatch.setattr(
        records,
        "package_digests",
        lambda: {**before, "lib/aestudy/science/names.py": "digest before the edit"},
    )
    try:
        res, _ = _run(tmp_path, "edited", "import aestudy.science.names", monkeypatch)
    finally:
        kernels.shutdown_all()
    assert res["status"] == "ok"
    done = json.loads((tmp_path / "reports/p/runs/x/edited/complete.json").read_text())
    assert done["modules"]["lib/aestudy/science/names.py"] == "digest before the edit"
    assert records.changed_modules(done["modules"]) == ["lib/aestudy/science/names.py"]


def test_the_sockets_of_dead_kernels_are_removed_and_live_ones_kept(tmp_path):
    """A kernel killed with its runner leaves its channel sockets in the temporary folder; a
    sweep's start removes those nobody listens on, and nothing else."""
    import socket

    from aestudy.runner.kernel_manager import SOCKET_PREFIX, remove_stale_sockets

    stale, live = tmp_path / f"{SOCKET_PREFIX}0123456789ab-1", tmp_path / f"{SOCKET_PREFIX}ba9876543210-1"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(stale))
    dead.close()  # the file stays: as a killed kernel leaves it
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(str(live))
    listening.listen()
    not_a_socket = tmp_path / f"{SOCKET_PREFIX}notes"
    not_a_socket.write_text("a file of that name is not ours to remove")
    other = tmp_path / "other-0123456789ab-1"
    foreign = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign.bind(str(other))
    foreign.close()
    try:
        assert stale.exists() and remove_stale_sockets(str(tmp_path)) == 1
        assert not stale.exists() and live.exists() and not_a_socket.exists() and other.exists()
    finally:
        listening.close()
