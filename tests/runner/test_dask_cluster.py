"""`--executor dask --scheduler ADDRESS` on a Dask cluster outside the runner's process tree: a
`dask scheduler` and two `dask worker` processes started separately, each worker in a working
directory of its own (with this checkout's lib/ on PYTHONPATH, as docs/cluster.md says), run the
smoke profile's stages that test_slurm.COMPARED names (7 of its 14 runs: reading the data, several
upstreams, the in-report stage) to the local pool's tables of those stages; the runs executed in those workers, and the cluster
outlives the command (the runner closes only its client). The workers are started with only
PYTHONPATH, as docs/cluster.md shows (no DATA_DIR): they read the data where the command does,
and a worker that finds no data or other data there is named with the path before any run."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_slurm import (  # noqa: F401 (local_smoke: a fixture)
    COMPARED,
    COMPARED_ARGS,
    REPO_ROOT,
    SMOKE,
    assert_same_tables,
    local_smoke,
)

from aestudy.runner import cluster, executors
from aestudy.science.data import RAW_FILES
from aestudy.science.data import checksum as data_checksum
from aestudy.science.data import fingerprint as data_fingerprint
from aestudy.study import STAGES

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
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATA_DIR")
    }  # as docs/cluster.md starts them
    lib_env = {**env, "PYTHONPATH": str(REPO_ROOT / "lib")}
    file = tmp_path / "scheduler.json"
    # without this checkout on its path, the scheduler gets a folder whose `aestudy` cannot be
    # imported: an installed copy (an editable install of this very checkout) must not stand in
    broken = tmp_path / "no-aestudy"
    (broken / "aestudy").mkdir(parents=True)
    (broken / "aestudy" / "__init__.py").write_text("raise ImportError('not this project')\n")
    no_lib_env = {**env, "PYTHONPATH": str(broken)}
    procs = [
        _spawn(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(file),
            ],
            tmp_path / "scheduler",
            lib_env if scheduler_pythonpath else no_lib_env,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for i in range(2):
            procs.append(
                _spawn(
                    [
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                        "--local-directory",
                        str(tmp_path / f"worker{i}" / "scratch"),
                    ],
                    tmp_path / f"worker{i}",
                    lib_env,
                )
            )
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            p.terminate()
        # a worker that has executed runs may outwait SIGTERM (this teardown took the whole 20 s
        # it allowed): killed after 5 s instead, as it was after 20
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=20)


@pytest.fixture
def dask_cluster(tmp_path):
    with separate_cluster(tmp_path) as found:
        yield found


@pytest.mark.slow
def test_an_existing_dask_cluster_gives_the_local_tables(dask_cluster, local_smoke, tmp_path):
    address, workers = dask_cluster
    env = {**local_smoke["env"], "REPORTS_DIR": str(tmp_path / "reports")}
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lib",
            "run",
            str(SMOKE),
            "--executor",
            "dask",
            "--scheduler",
            address,
            "--workers",
            "2",
            "--no-render",
            *COMPARED_ARGS,
        ],  # --workers 2: the local pool's thread share
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    pdir = tmp_path / "reports" / "smoke"
    assert_same_tables(pdir, local_smoke["dir"], only=COMPARED)
    runs = json.loads((pdir / "runs.json").read_text())["runs"]
    assert {r["where"]["pid"] for r in runs} == {w.pid for w in workers}  # in the separate workers, both used
    assert all(w.poll() is None for w in workers)  # the cluster is not the runner's to stop
    checksum = data_fingerprint("mnist", local_smoke["env"]["DATA_DIR"])
    for r in runs:  # the data-reading runs read the command's DATA_DIR, and record the checksum they read
        if r["stage"] not in ("theory",) and STAGES[r["stage"]].reads_data:
            assert json.loads((Path(r["dir"]) / "complete.json").read_text())["inputs"]["data"] == checksum, (
                r["dir"]
            )
    for i in range(2):  # each worker kept to its own directory: the runs wrote under reports/ only
        assert sorted(p.name for p in (tmp_path / f"worker{i}").iterdir()) == ["process.log", "scratch"]
    print(f"smoke on a separate Dask scheduler + 2 workers: {time.monotonic() - t0:.1f} s wall")


@pytest.mark.slow
def test_a_scheduler_that_cannot_import_the_project_is_named(tmp_path, mnist_dir):
    with separate_cluster(tmp_path, scheduler_pythonpath=False) as (address, _):
        env = {**os.environ, "REPORTS_DIR": str(tmp_path / "reports"), "DATA_DIR": str(mnist_dir)}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "lib",
                "run",
                str(SMOKE),
                "--executor",
                "dask",
                "--scheduler",
                address,
                "--stage",
                "theory",
                "--no-render",
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: the Dask scheduler at {address} cannot import this checkout's aestudy ")
    assert last.endswith(f"start it with PYTHONPATH={REPO_ROOT / 'lib'}")
    assert not (tmp_path / "reports" / "smoke" / "runs").exists()


# fast: the data check a worker makes, in this process


def _fake_data(root: Path, content: bytes) -> Path:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in RAW_FILES:
        (raw / name).write_bytes(content + name.encode())
    return root


def test_a_worker_reads_the_commands_data_and_records_the_checksum_it_read(tmp_path, monkeypatch):
    import socket

    data = _fake_data(tmp_path / "data", b"x")
    monkeypatch.setenv("DATA_DIR", str(data))
    expected = data_checksum("mnist", data)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "not-the-commands"))  # a worker's own setting: overridden
    check = {
        **cluster.write_token(tmp_path / "smoke"),
        "data": {"dataset": "mnist", "dir": str(data), "checksum": expected},
    }
    assert cluster.problem(check) == "" and os.environ["DATA_DIR"] == str(data)

    def run(item, threads, checksum, **kwargs):
        return {"checksum": checksum, "DATA_DIR": os.environ["DATA_DIR"]}

    out = executors._on_dask_worker(check, run, None, 0, {"checksum": "the command's"})
    assert out["checksum"] == expected and out["DATA_DIR"] == str(data)  # what the worker read

    other = _fake_data(tmp_path / "other", b"y")
    moved = {**cluster.write_token(tmp_path / "smoke"), "data": {**check["data"], "dir": str(other)}}
    why = cluster.problem(moved)
    assert why.startswith(f"worker on {socket.gethostname()} reads other data (checksum ")
    assert f" in {other / 'MNIST' / 'raw'}: workers must see" in why and "\n" not in why
    with pytest.raises(cluster.NotShared):
        cluster.verify(moved)
    empty = {
        **cluster.write_token(tmp_path / "smoke"),
        "data": {**check["data"], "dir": str(tmp_path / "none")},
    }
    assert cluster.problem(empty).startswith(
        f"worker on {socket.gethostname()} finds no data in {tmp_path / 'none' / 'MNIST' / 'raw'}: "
    )


def test_the_local_cluster_keeps_off_the_dashboard_port():
    """distributed starts its scheduler's HTTP server on 8787 even without a dashboard, and warned
    "Port 8787 is already in use" beside a user's running dashboard (or another test's cluster): the
    runner's LocalCluster takes a free port and shows no dashboard."""
    import socket
    import warnings

    held = socket.socket()
    try:
        held.bind(("127.0.0.1", 8787))
        held.listen()
    except OSError:
        held.close()
        pytest.skip("port 8787 is taken on this machine already")
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ex = executors.DaskExecutor(1, 1)
            try:
                assert ex.cluster.scheduler.http_server.port != 8787
            finally:
                ex.client.close()
                ex.cluster.close()
        assert not [w for w in seen if "8787" in str(w.message)]
    finally:
        held.close()
