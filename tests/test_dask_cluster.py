"""`--executor dask --scheduler ADDRESS` on a Dask cluster outside the runner's process tree: a
`dask scheduler` and two `dask worker` processes started separately, each worker in a working
directory of its own (with this checkout's lib/ on PYTHONPATH, as docs/cluster.md says), run the
smoke profile to the local pool's tables; the runs executed in those workers, and the cluster
outlives the command (the runner closes only its client)."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_slurm import REPO_ROOT, SMOKE, assert_same_tables, local_smoke  # noqa: F401 (a fixture)

DASK = Path(sys.executable).with_name("dask")


def _spawn(args: list[str], cwd: Path, env: dict) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    log = open(cwd / "process.log", "wb")
    return subprocess.Popen([str(DASK), *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def separate_cluster(tmp_path: Path, scheduler_pythonpath: bool = True):
    """A `dask scheduler` and two `dask worker --no-nanny` processes, each in a folder of its own,
    the workers (and, unless told otherwise, the scheduler: it unpickles the runs) with this
    checkout's lib/ on PYTHONPATH: (scheduler address, worker processes); all stopped afterwards."""
    if not DASK.exists():
        pytest.skip(f"the dask command is not installed next to {sys.executable}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    lib_env = {**env, "PYTHONPATH": str(REPO_ROOT / "lib")}
    file = tmp_path / "scheduler.json"
    # without this checkout on its path, the scheduler gets a folder whose `aestudy` cannot be
    # imported: an installed copy (an editable install of this very checkout) must not stand in
    broken = tmp_path / "no-aestudy"
    (broken / "aestudy").mkdir(parents=True)
    (broken / "aestudy" / "__init__.py").write_text("raise ImportError('not this project')\n")
    no_lib_env = {**env, "PYTHONPATH": str(broken)}
    procs = [_spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(file)], tmp_path / "scheduler",
                    lib_env if scheduler_pythonpath else no_lib_env)]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for i in range(2):
            procs.append(_spawn(["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                 "--name", f"w{i}", "--local-directory", str(tmp_path / f"worker{i}" / "scratch")],
                                tmp_path / f"worker{i}", lib_env))
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def dask_cluster(tmp_path):
    with separate_cluster(tmp_path) as found:
        yield found


@pytest.mark.slow
def test_an_existing_dask_cluster_gives_the_local_tables(dask_cluster, local_smoke, tmp_path):
    address, workers = dask_cluster
    env = {**local_smoke["env"], "REPORTS_DIR": str(tmp_path / "reports")}
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "lib", "run", str(SMOKE), "--executor", "dask", "--scheduler", address,
                           "--workers", "2", "--no-render"],  # --workers 2: the local pool's thread share
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pdir = tmp_path / "reports" / "smoke"
    assert_same_tables(pdir, local_smoke["dir"])
    runs = json.loads((pdir / "runs.json").read_text())["runs"]
    assert {r["where"]["pid"] for r in runs} == {w.pid for w in workers}  # in the separate workers, both used
    assert all(w.poll() is None for w in workers)  # the cluster is not the runner's to stop
    for i in range(2):  # each worker kept to its own directory: the runs wrote under reports/ only
        assert sorted(p.name for p in (tmp_path / f"worker{i}").iterdir()) == ["process.log", "scratch"]
    print(f"smoke on a separate Dask scheduler + 2 workers: {time.monotonic() - t0:.1f} s wall")


@pytest.mark.slow
def test_a_scheduler_that_cannot_import_the_project_is_named(tmp_path, mnist_dir):
    with separate_cluster(tmp_path, scheduler_pythonpath=False) as (address, _):
        env = {**os.environ, "REPORTS_DIR": str(tmp_path / "reports"), "DATA_DIR": str(mnist_dir)}
        proc = subprocess.run([sys.executable, "-m", "lib", "run", str(SMOKE), "--executor", "dask", "--scheduler",
                               address, "--stage", "theory", "--no-render"],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: the Dask scheduler at {address} cannot import this checkout's aestudy ")
    assert last.endswith(f"start it with PYTHONPATH={REPO_ROOT / 'lib'}")
    assert not (tmp_path / "reports" / "smoke" / "runs").exists()
