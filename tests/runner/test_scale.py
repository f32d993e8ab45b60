"""Scale: the exact cache (what re-executes after an edit, and only that), the fast no-op
rerun, parallel workers whose thread share reaches the notebook kernel, and a Dask
LocalCluster that gives byte-identical metrics to the local executor.

Nothing here is timed: speed is measured by benchmarks/ (figures printed, never asserted).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from aestudy.runner import executors, records, sweep
from aestudy.runner.paramfile import load_study
from aestudy.science import data
from conftest import use_stand_in_notebooks

REPO_ROOT = Path(__file__).resolve().parents[2]

TINY = """
profile: scale
data: {dataset: mnist, data_dir: data, train_size: 200, test_size: 100}
stages:
  autoencode:
    grid: {latent_dim: [3, 4]}
    params: {num_conv: 1, c_factor: 2, fc_hidden: 16, epochs: 1, batch_size: 64, device: cpu}
"""
DOWNSTREAM = """
  correlate:
    uses: {autoencode: {}}
    params: {n_images: 100, image_seed: 0}
"""
PROBE = """
  theory:
    grid: {seed: [0, 1]}
    params: {n_samples: 101}
"""


def notebook(path: Path, params: str, code: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)


def correlate_stand_in(path: Path) -> None:
    """A cheap `correlate`: records a digest of every checkpoint it is given (no torch import)."""
    notebook(
        path,
        "n_images = 100\nimage_seed = 0\ncheckpoints = []\nout_dir = None",
        textwrap.dedent("""\
        import hashlib, json, pathlib
        digests = [hashlib.sha256(pathlib.Path(c).read_bytes()).hexdigest() for c in checkpoints]
        out = pathlib.Path(out_dir)
        (out / "metrics.json").write_text(json.dumps({"n_models": len(checkpoints), "inputs": digests}))
        """),
    )


def thread_probe(path: Path) -> None:
    """A `theory` stand-in that reports what the kernel sees: thread variables and torch's count
    after `train.setup`, and where `aestudy` was imported from."""
    notebook(
        path,
        "seed = 0\nn_samples = 101\nout_dir = None",
        textwrap.dedent("""\
        import json, os, pathlib
        import aestudy
        from aestudy.experiments.autoencode import run as train
        import torch
        train.setup(seed)
        metrics = {name: os.environ.get(name) for name in
                   ("LIB_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        metrics.update(torch_threads=torch.get_num_threads(), lib=str(pathlib.Path(aestudy.__file__).parent))
        (pathlib.Path(out_dir) / "metrics.json").write_text(json.dumps(metrics, sort_keys=True))
        """),
    )


def edit(path: Path) -> None:
    """Change a notebook's source (a comment line in its last code cell)."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[-1].source += "\n# edited by test_scale"
    nbformat.write(nb, path)


def statuses(results) -> dict:
    return {f"{r['stage']}/{r['run_id']}": r["status"] for r in results}


@pytest.mark.slow
def test_cache_is_exact(tmp_path, tmp_reports, fake_mnist, one_thread_kernels, monkeypatch):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    shutil.copy(REPO_ROOT / "notebooks" / "autoencode.ipynb", nb_dir)
    correlate_stand_in(nb_dir / "correlate.ipynb")
    use_stand_in_notebooks(monkeypatch, nb_dir)
    params = tmp_path / "tiny.yaml"
    params.write_text(TINY + DOWNSTREAM)
    study = load_study(params)
    ae, down = ["autoencode/d3", "autoencode/d4"], ["correlate/all"]
    run = lambda **kw: statuses(sweep.run_study(study, progress=False, **kw))  # noqa: E731

    assert run() == dict.fromkeys(ae + down, "ok")
    runs_dir = tmp_reports / "scale" / "runs"
    metrics = {r: (runs_dir / r / "metrics.json").read_bytes() for r in ae + down}
    assert json.loads(metrics["correlate/all"])["n_models"] == 2

    # nothing changed: nothing executes, and the dataset is not even loaded (its raw files exist)
    def no_loading(*args, **kwargs):
        raise AssertionError("a run with nothing to do loaded the dataset")

    monkeypatch.setattr(data, "ensure_dataset", no_loading)
    completed = {r: (runs_dir / r / "complete.json").read_bytes() for r in ae + down}
    assert run() == dict.fromkeys(ae + down, "cached")
    assert {r: (runs_dir / r / "complete.json").read_bytes() for r in ae + down} == completed
    # (ensure_dataset stays patched: the raw files are there, no run below may load them here)

    # an edited upstream notebook: that stage's runs and the runs that use them
    edit(nb_dir / "autoencode.ipynb")
    assert run() == dict.fromkeys(ae + down, "ok")
    # same parameters, seed and thread count: the same numbers, so the same inputs downstream
    assert {r: (runs_dir / r / "metrics.json").read_bytes() for r in ae + down} == metrics

    # an edited downstream notebook: that stage only
    edit(nb_dir / "correlate.ipynb")
    assert run() == {**dict.fromkeys(ae, "cached"), **dict.fromkeys(down, "ok")}
    assert run() == dict.fromkeys(ae + down, "cached")

    # (--force executing everything again: test_same_parameters_and_seed_give_bit_identical_metrics)

    # a change of a module a run imported, or of the dataset, makes the runs that depend on it
    # stale, and status says why (the stand-in correlate imports no project module)
    state = lambda: {r["run"]: (r["state"], r["reason"]) for r in sweep.status(study)}  # noqa: E731
    assert {s for s, _ in state().values()} == {"complete"}
    real = records._module_sha
    models_py = "lib/aestudy/science/models.py"
    monkeypatch.setattr(records, "_module_sha", lambda p: ("edited",) if p == models_py else real(p))
    now = state()
    assert now["autoencode/d3"] == ("stale", f"module {models_py} changed")
    assert now["correlate/all"] == ("stale", "upstream autoencode/d3 is stale")
    monkeypatch.setattr(records, "_module_sha", real)
    monkeypatch.setattr(sweep, "data_checksum", lambda study, download=True: "another dataset")
    assert state() == {
        **dict.fromkeys(ae, ("stale", "dataset changed")),
        "correlate/all": ("stale", "upstream autoencode/d3 is stale"),
    }


def _repo_copy(tmp_path: Path) -> Path:
    """lib/ and the notebooks this test needs, in a folder of their own: `python -m lib` run
    there (and its workers and kernels) imports this copy, untouched by edits made meanwhile
    in the working tree."""
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "lib", root / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "notebooks").mkdir()
    shutil.copy(REPO_ROOT / "notebooks" / "autoencode.ipynb", root / "notebooks")
    thread_probe(root / "notebooks" / "theory.ipynb")
    (root / "tiny.yaml").write_text(TINY + PROBE)
    return root


def _sweep(root: Path, reports: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LIB_THREADS",) + executors.THREAD_VARS}
    env["REPORTS_DIR"] = str(reports)
    done = subprocess.run(
        [sys.executable, "-m", "lib", "run", "tiny.yaml", "--no-render", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads((reports / "scale" / "runs.json").read_text())
    assert {r["status"] for r in runs["runs"]} == {"ok"}, runs
    assert (runs["executor"], runs["workers"]) == (args[-1] if "--executor" in args else "local", 2)
    return {
        f"{r['stage']}/{r['run_id']}": (Path(r["dir"]) / "metrics.json").read_bytes() for r in runs["runs"]
    }


@pytest.mark.slow
def test_workers_get_their_thread_share_and_dask_matches_local(tmp_path, fake_mnist):
    root = _repo_copy(tmp_path)
    local = _sweep(root, tmp_path / "local", "--workers", "2")
    dask = _sweep(root, tmp_path / "dask", "--workers", "2", "--executor", "dask")
    assert sorted(local) == ["autoencode/d3", "autoencode/d4", "theory/s0", "theory/s1"]
    # every run's metrics.json is byte-identical under the local pool and the Dask cluster
    assert dask == local
    # the thread share reached each kernel and lib.train.setup applied it
    share = executors.threads_per_worker(2)
    for name in ("theory/s0", "theory/s1"):
        probe = json.loads(local[name])
        assert probe["torch_threads"] == share, probe
        assert probe["LIB_THREADS"] == probe["OMP_NUM_THREADS"] == probe["MKL_NUM_THREADS"] == str(share)
        assert Path(probe["lib"]) == root / "lib" / "aestudy"


def timed_stub(path: Path, params: str, seconds: str, waits_for: str = "[]", marker: str = "") -> None:
    """A stage stand-in that sleeps `seconds` (an expression of its parameters), then waits (at most
    60 s) until the marker files that `waits_for` (an expression) names exist, records when it started
    and ended, and writes `marker` (no torch: the order of runs is what is measured)."""
    notebook(
        path,
        params + "\nout_dir = None",
        textwrap.dedent(f"""\
        import json, pathlib, time
        start = time.time()
        time.sleep({seconds})
        deadline = time.time() + 60
        while not all(pathlib.Path(m).exists() for m in {waits_for}) and time.time() < deadline:
            time.sleep(0.05)
        (pathlib.Path(out_dir) / "model.pt").write_text("stub")
        (pathlib.Path(out_dir) / "metrics.json").write_text(json.dumps({{"start": start, "end": time.time()}}))
        if {marker!r}:
            pathlib.Path({marker!r}).touch()
        """),
    )


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_run_starts_when_its_own_inputs_are_ready(tmp_path, tmp_reports, fake_mnist, monkeypatch, executor):
    """Two workers; the d3 encoder is quick, d4 ends only once a transfer run and theory have
    ended (or after 60 s): with the graph scheduled, transfer on d3 and theory run while d4 waits;
    stage by stage, transfer would wait for d4, which would end at its time-out. Events, not time
    margins, order the runs, so a loaded machine cannot reorder them."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    transfer_done, theory_done = tmp_path / "transfer.done", tmp_path / "theory.done"
    timed_stub(
        nb_dir / "autoencode.ipynb",
        "latent_dim = 1\nnum_conv = 1\nseed = 0",
        "0.5 if latent_dim == 3 else 0",
        waits_for=f"([{str(transfer_done)!r}, {str(theory_done)!r}] if latent_dim == 4 else [])",
    )
    timed_stub(nb_dir / "transfer.ipynb", "checkpoints = []", "0.5", marker=str(transfer_done))
    timed_stub(nb_dir / "theory.ipynb", "seed = 0", "0.5", marker=str(theory_done))
    use_stand_in_notebooks(monkeypatch, nb_dir)
    params = tmp_path / "graph.yaml"
    params.write_text(
        TINY
        + """
  transfer:
    uses: {autoencode: {}}
    for_each: autoencode
  theory: {}
"""
    )
    study = load_study(params)
    results = {
        f"{r['stage']}/{r['run_id']}": r
        for r in sweep.run_study(study, workers=2, executor=executor, progress=False)
    }
    assert {r["status"] for r in results.values()} == {"ok"}, results
    t = {name: json.loads((Path(r["dir"]) / "metrics.json").read_text()) for name, r in results.items()}
    assert t["transfer/d3"]["start"] >= t["autoencode/d3"]["end"]  # after its own encoder
    assert t["transfer/d3"]["end"] < t["autoencode/d4"]["end"]  # but before the slow one ends
    assert t["transfer/d4"]["start"] >= t["autoencode/d4"]["end"]
    assert t["theory/all"]["start"] < t["autoencode/d4"]["end"]  # it uses nothing


def test_stage_schedule_waits_for_every_earlier_run():
    from aestudy.runner.plan import Run

    runs = [
        Run("autoencode", "a", {}, {}),
        Run("autoencode", "b", {}, {}),
        Run("transfer", "a", {}, {}, upstream=["autoencode/a"]),
        Run("theory", "all", {}, {}),
    ]
    assert sweep._wait_for(runs, "graph") == {
        "autoencode/a": [],
        "autoencode/b": [],
        "transfer/a": ["autoencode/a"],
        "theory/all": [],
    }
    stages = sweep._wait_for(runs, "stages")
    assert stages["transfer/a"] == ["autoencode/a", "autoencode/b"]
    assert stages["theory/all"] == ["autoencode/a", "autoencode/b", "transfer/a"]


def _order(runs, costs):
    from aestudy.runner.eta import Costs

    return [
        r.name
        for r, _ in executors.SerialExecutor().run_graph(
            lambda run, upstream, threads: (run, upstream),
            runs,
            sweep._wait_for(runs, "graph"),
            {},
            priority=sweep._priority(runs, Costs(runs, declared={}, recorded=costs)),
        )
    ]


def test_the_run_on_the_longest_chain_left_starts_first():
    """Critical path first: an autoencoder that correlate still waits on goes before a transfer run
    that is ready; a long downstream run (recorded seconds) goes before short ones."""
    from aestudy.runner.plan import Run

    runs = [
        Run("autoencode", "a", {}, {}),
        Run("autoencode", "b", {}, {}),
        Run("transfer", "a", {}, {}, upstream=["autoencode/a"]),
        Run("semisup", "all", {}, {}, upstream=["autoencode/a"]),
        Run("correlate", "all", {}, {}, upstream=["autoencode/a", "autoencode/b"]),
    ]
    unit = dict.fromkeys([r.name for r in runs], 1.0)
    order = _order(runs, unit)
    assert order[:2] == ["autoencode/a", "autoencode/b"] and order[-1] in ("transfer/a", "correlate/all")
    slow = _order(runs, {**unit, "semisup/all": 100.0})
    assert slow[:2] == ["autoencode/a", "semisup/all"]  # its chain (101) outweighs autoencode/b's (2)


def test_a_long_downstream_run_is_not_left_for_the_end():
    from aestudy.runner.plan import Run

    runs = [
        Run("autoencode", "a", {}, {}),
        Run("transfer", "a", {}, {}, upstream=["autoencode/a"]),
        Run("theory", "all", {}, {}),
    ]
    assert _order(runs, {"autoencode/a": 5.0, "transfer/a": 30.0, "theory/all": 10.0}) == [
        "autoencode/a",
        "transfer/a",
        "theory/all",
    ]


def test_a_fresh_sweep_starts_the_semisup_run_before_the_autoencoders_it_does_not_wait_for():
    """With no record on disk, each run used to count one, so semisup's one run (7 times an
    autoencoder's seconds on the default profile) started after 54 runs and could end a sweep on
    one worker. Its cost model (the autoencoders' unit) now weighs it against them: its cost over
    the median of the unit's runs, to the power K_PRIOR (benchmarks/schedule_replay.py: large.yaml on
    8 workers, 887 s replayed before, 668 s after, 707 s with every run's seconds known)."""
    from aestudy.runner.eta import K_PRIOR, Costs
    from aestudy.runner.plan import plan

    runs = plan(load_study(Path(__file__).resolve().parents[2] / "params" / "default.yaml"))
    costs = Costs(runs, declared={}, recorded={}, order_prior=True)
    semisup = next(r.name for r in runs if r.stage == "semisup")
    unit = sorted(costs._relative_cost(r.name) for r in runs if r.stage in ("autoencode", "semisup"))
    median = unit[24]  # of 49 runs: the 48 autoencoders and semisup's
    assert costs.expected(semisup) == pytest.approx((costs._relative_cost(semisup) / median) ** K_PRIOR)
    assert 4 < costs.expected(semisup) < 8  # 12.7 times the arithmetic
    assert costs.expected("theory/all") == 1.0  # no cost model: one run's worth, as before
    # one factor per stage: the autoencoders keep their plan order, not the costliest first
    assert len({costs.expected(r.name) for r in runs if r.stage == "autoencode"}) == 1
    priority = sweep._priority(runs, costs)
    before = {u for r in runs if r.name == semisup for u in r.upstream}  # it waits for these
    later = [r.name for r in runs if r.stage == "autoencode" and r.name not in before]
    assert all(priority[semisup] > priority[n] for n in later)
    assert Costs(runs, declared={}, recorded={}).expected(semisup) == 1.0  # the ETA's costs: no prior


def test_a_fresh_sweep_runs_one_transfer_run_early_so_the_eta_learns_what_they_cost():
    """Critical path first started none of the default's 32 transfer runs before three quarters of
    a fresh sweep, and the ETA costed each at the mean of other stages' runs (24 s; 12 s measured):
    40-100 % long from a quarter of the way on. One run of each stage that no cost model and no record
    tells (a scout) now goes first among the ready runs; a stage with a record, a cost model or a
    single run has none, and with every run's seconds known the order is critical path first."""
    from aestudy.runner.eta import Costs
    from aestudy.runner.plan import plan

    runs = plan(load_study(Path(__file__).resolve().parents[2] / "params" / "default.yaml"))
    priority = sweep._priority(runs, Costs(runs, declared={}, recorded={}, order_prior=True))
    top = max(priority.values())
    scouts = [n for n, p in priority.items() if p == top]
    first = {stage: next(r.name for r in runs if r.stage == stage) for stage in ("protocol", "transfer")}
    assert sorted(scouts) == sorted(first.values())  # not autoencode (a cost model), not the one-run stages
    transfers = [r.name for r in runs if r.stage == "transfer"]
    assert all(priority[first["transfer"]] > priority[n] for n in transfers[1:])
    known = {r.name: 10.0 for r in runs}
    assert sweep._priority(runs, Costs(runs, declared={}, recorded=known)) == sweep._critical_path_first(
        runs, Costs(runs, declared={}, recorded=known)
    )


def test_the_schedule_replay_benchmark_orders_runs_as_the_executors_do():
    """benchmarks/schedule_replay.py simulates the executors' rule: on one worker its order is the
    serial executor's; on two, a long run on the critical path starts as soon as what it uses is
    done, and the makespan is the chain's."""
    import importlib.util

    from aestudy.runner.eta import Costs
    from aestudy.runner.plan import Run

    spec = importlib.util.spec_from_file_location(
        "schedule_replay", Path(__file__).parents[2] / "benchmarks" / "schedule_replay.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    runs = [
        Run("autoencode", "a", {}, {}),
        Run("autoencode", "b", {}, {}),
        Run("transfer", "b", {}, {}, upstream=["autoencode/b"]),
        Run("semisup", "all", {}, {}, upstream=["autoencode/b"]),
        Run("theory", "all", {}, {}),
    ]
    seconds = {
        "autoencode/a": 10.0,
        "autoencode/b": 20.0,
        "transfer/b": 5.0,
        "semisup/all": 60.0,
        "theory/all": 5.0,
    }
    priority = sweep._priority(runs, Costs(runs, declared={}, recorded=seconds))
    span, ends = bench.replay(runs, seconds, priority, workers=1)
    assert sorted(ends, key=ends.get) == _order(runs, seconds) and span == sum(seconds.values())
    span, ends = bench.replay(runs, seconds, priority, workers=2)
    assert ends["semisup/all"] == 80.0 == span  # b (20 s) then semisup (60 s): the chain
    assert ends["autoencode/a"] == 10.0  # beside b, not after semisup


def test_threads_per_worker_divides_the_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert [executors.threads_per_worker(w) for w in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert isinstance(sweep.make_executor("local", workers=1), executors.SerialExecutor)
    with pytest.raises(ValueError, match="executor"):
        sweep.make_executor("spark")


def test_pool_worker_sets_thread_variables(monkeypatch):
    for name in executors.THREAD_VARS:
        monkeypatch.setenv(name, "1")  # what Dask's nanny leaves in a worker's environment
    seen = executors._in_worker(
        lambda item, threads: (item, threads, {n: os.environ[n] for n in executors.THREAD_VARS}), "run", 3, {}
    )  # noqa: E501
    assert seen == ("run", 3, dict.fromkeys(executors.THREAD_VARS, "3"))
