"""A device the machine lacks is one line naming the parameter file and the field, before any run."""

from __future__ import annotations

from pathlib import Path

import pytest

from aestudy.messages import ParamsError
from aestudy.runner import devices
from aestudy.runner.paramfile import load_study
from aestudy.runner.plan import plan

REPO = Path(__file__).resolve().parents[2]


def _study(tmp_path, device_line: str):
    text = (REPO / "params" / "smoke.yaml").read_text()
    old = "optimizer: adam, lr: 1.0e-3, warmup_steps: 10}"
    assert old in text
    path = tmp_path / "gpu.yaml"
    path.write_text(text.replace(old, old[:-1] + device_line + "}"))
    study = load_study(path)
    return study, plan(study)


def test_a_cuda_device_this_machine_lacks_is_named_with_the_file_and_field_before_any_run(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    study, runs = _study(tmp_path, ', device: "cuda:9"')
    with pytest.raises(ParamsError) as err:
        devices.check_devices(study, runs)  # the real check: a child Python asks pick_device
    said = str(err.value)
    assert said.endswith(
        "gpu.yaml: stages.autoencode.params.device: cuda:9: this machine has no CUDA device; "
        "set `device: auto` or a device it has"
    )
    assert "\n" not in said


def test_auto_and_cpu_need_no_check_and_a_device_present_passes(tmp_path):
    asked = []
    for line in ("", ', device: "cpu"', ', device: "auto"'):
        study, runs = _study(tmp_path, line)
        devices.check_devices(study, runs, ask=lambda names: asked.append(names) or {})
    assert asked == []
    study, runs = _study(tmp_path, ', device: "cuda:1"')
    devices.check_devices(study, runs, ask=lambda names: {name: "" for name in names})  # present: no error


def test_a_device_set_by_the_grid_is_named_there(tmp_path):
    study, runs = _study(tmp_path, "")
    for run in runs:
        if run.stage == "autoencode":
            run.grid = {**run.grid, "device": "mps"}
            run.params = {**run.params, "device": "mps"}
    assert devices.named_devices(runs) == {"mps": ("autoencode", "grid")}
    with pytest.raises(
        ParamsError, match=r"stages\.autoencode\.grid\.device: mps: this machine has no Apple MPS"
    ):
        devices.check_devices(
            study,
            runs,
            ask=lambda names: {"mps": "device: mps: this machine has no Apple MPS device; set ..."},
        )


def test_a_check_that_cannot_be_made_leaves_it_to_the_runs(tmp_path):
    study, runs = _study(tmp_path, ', device: "cuda:9"')
    devices.check_devices(study, runs, ask=lambda names: {})  # the child Python could not say


def _without_cuda():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")


def test_a_worker_without_the_device_is_named_with_the_file_and_field_before_it_gets_a_run(tmp_path):
    """Under the Dask and SLURM executors the check runs on each worker (it may hold the GPU this
    machine lacks): the same line, said by the worker on its host; NotShared, so exit 2."""
    import socket

    from aestudy.runner import cluster

    _without_cuda()
    study, runs = _study(tmp_path, ', device: "cuda:9"')
    check = {**cluster.write_token(tmp_path), "data": None, "devices": devices.required(study, runs)}
    said = cluster.problem(check)  # the real check, as a worker makes it
    assert said == (
        f"{tmp_path / 'gpu.yaml'}: stages.autoencode.params.device: cuda:9: this machine has no CUDA "
        f"device; set `device: auto` or a device it has (said by the worker on {socket.gethostname()})"
    )
    with pytest.raises(cluster.NotShared) as err:
        cluster.verify(check)
    assert err.value.exit_code == 2
    assert devices.required(*_study(tmp_path, ', device: "cpu"')) == {}  # nothing for a worker to ask
    assert cluster.problem({**check, "devices": {}}) == ""


def test_the_workers_check_runs_in_a_thread_off_the_workers_event_loop(tmp_path, monkeypatch):
    """`client.run` calls a plain function on the worker's event loop; the check (the data's checksum,
    torch imported for the device probe: seconds) must leave that loop free to answer the scheduler."""
    import asyncio
    import threading

    from aestudy.runner import cluster

    asked_in = []
    monkeypatch.setattr(cluster, "problem", lambda check: asked_in.append(threading.current_thread()) or "")

    async def on_the_loop():
        return threading.current_thread(), await cluster._on_worker({"token": "t"})

    loop_thread, info = asyncio.run(on_the_loop())
    assert info["problem"] == "" and info["host"] and asked_in and asked_in[0] is not loop_thread


@pytest.mark.slow
def test_a_dask_sweep_naming_a_device_its_workers_lack_stops_with_one_line_and_no_run(tmp_path, mnist_dir):
    import os
    import subprocess
    import sys

    _without_cuda()
    _study(tmp_path, ', device: "cuda:9"')
    env = {**os.environ, "REPORTS_DIR": str(tmp_path / "reports"), "DATA_DIR": str(mnist_dir)}
    cmd = [sys.executable, "-m", "lib", "run", str(tmp_path / "gpu.yaml"), "--executor", "dask"]
    proc = subprocess.run(
        cmd + ["--workers", "2"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "gpu.yaml: stages.autoencode.params.device: cuda:9: " in last
    assert "said by the worker on " in last
    assert not list((tmp_path / "reports").glob("*/runs/*/*"))  # no run executed


def test_a_sweep_hands_the_named_devices_to_the_executor_and_a_dask_executor_puts_them_in_each_workers_check(
    tmp_path, monkeypatch
):
    """The fast half of the path the slow test above walks: run_study passes `devices` to the
    executor, and the Dask executor's check (what every worker asks itself) carries them."""
    from aestudy.runner import cluster, executors, sweep

    study, runs = _study(tmp_path, ', device: "cuda:9"')
    handed = {}

    class Stop(Exception):
        pass

    class Recorder:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def run_graph(self, fn, units, wait_for, done, priority=None, **kwargs):
            handed.update(kwargs)
            raise Stop

    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setattr(sweep, "make_executor", lambda *a, **k: Recorder())
    monkeypatch.setattr(sweep, "data_checksum", lambda study: "")
    with pytest.raises(Stop):
        sweep.run_study(study, executor="dask", progress=False)
    assert handed["devices"] == {"cuda:9": f"{tmp_path / 'gpu.yaml'}: stages.autoencode.params"}

    checks = []

    def scheduler_check(client, check):
        checks.append(check)
        raise Stop

    monkeypatch.setattr(cluster, "check_scheduler", scheduler_check)
    dask = object.__new__(executors.DaskExecutor)  # no cluster: the check is what is looked at
    dask.client = None
    with pytest.raises(Stop):
        list(dask.run_graph(None, runs, {}, {}, data=None, devices=handed["devices"]))
    assert checks[0]["devices"] == handed["devices"]
