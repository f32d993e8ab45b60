"""--seeds-together: the seeds of an autoencoder cell executed as one job (`plan.Job`, one
notebook execution training every seed in one step), each run still its own folder, record, key
and numbers (to float rounding), so the cache, the tables and the report do not care which way a
run was trained."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from aestudy import config
from aestudy.runner import sweep
from aestudy.runner.paramfile import load_study
from aestudy.runner.plan import CELL_RUNS, Job, jobs, plan
from aestudy.runner.sweep import _for_units, _priority, _wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = """
profile: cell
data: {dataset: mnist, data_dir: data, train_size: 200, test_size: 100}
stages:
  autoencode:
    grid: {latent_dim: [3, 4], seed: [0, 1, 2]}
    params: {num_conv: 1, c_factor: 2, fc_hidden: 16, epochs: 2, batch_size: 64, val_size: 50,
             epoch_test_size: 50, device: cpu}
  correlate:
    uses: {autoencode: {}}
    params: {n_images: 50, image_seed: 0}
"""


def study(tmp_path: Path, text: str = TINY):
    path = tmp_path / "cell.yaml"
    path.write_text(textwrap.dedent(text))
    return load_study(path)


def test_the_seeds_of_a_cell_become_one_job_and_what_uses_them_waits_for_it(tmp_path, tmp_reports):
    runs = plan(study(tmp_path))
    units = jobs(runs)
    cells = [u for u in units if isinstance(u, Job)]
    assert [[r.run_id for r in j.runs] for j in cells] == [
        ["d3-s0", "d3-s1", "d3-s2"],
        ["d4-s0", "d4-s1", "d4-s2"],
    ]
    assert [u.name for u in units if not isinstance(u, Job)] == ["correlate/all"]  # not a seed grid
    wait_for, priority = _for_units(units, _wait_for(runs, "graph"), _priority(runs))
    assert wait_for["correlate/all"] == [j.name for j in cells]
    assert all(wait_for[j.name] == [] for j in cells)
    assert all(priority[j.name] > priority["correlate/all"] for j in cells)  # the critical path first


def test_runs_that_differ_in_more_than_the_seed_stay_apart(tmp_path, tmp_reports):
    text = TINY.replace("seed: [0, 1, 2]", "seed: [0]")
    assert all(not isinstance(u, Job) for u in jobs(plan(study(tmp_path, text))))


def _tables(pdir: Path) -> dict[str, pd.DataFrame]:
    return {f.stem: pd.read_csv(f).drop(columns=["seconds"]) for f in sorted((pdir / "tables").glob("*.csv"))}


@pytest.mark.slow
def test_seeds_trained_together_keep_their_own_folders_keys_and_numbers(
    tmp_path, tmp_reports, fake_mnist, one_thread_kernels, monkeypatch
):
    """The same tiny sweep (one cell of 3 seeds, and correlate) twice: seed by seed, then with its
    cell as a job. Each run of a job has its own executed notebook, checkpoint, metrics and
    completion record (naming the runs it was trained with); every key is the same as when trained
    alone (how a run is executed is not an input), every number equal to float rounding; and a sweep
    seed by seed then finds every run complete. (Two cells' jobs at once: the failing-job test.)"""
    one_cell = TINY.replace("latent_dim: [3, 4]", "latent_dim: [3]")
    assert one_cell != TINY
    s = study(tmp_path, one_cell)
    alone = {f"{r['stage']}/{r['run_id']}": r for r in sweep.run_study(s, progress=False, workers=2)}
    pdir = tmp_reports / "cell"
    first = _tables(pdir)
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "together"))
    together = {
        f"{r['stage']}/{r['run_id']}": r
        for r in sweep.run_study(s, progress=False, workers=2, seeds_together=True)
    }
    assert {r["status"] for r in together.values()} == {"ok"}
    tdir = tmp_path / "together" / "cell"
    assert json.loads((tdir / "runs.json").read_text())["seeds_together"] is True
    for name, res in alone.items():
        assert together[name]["key"] == res["key"], name
    for seed in (0, 1, 2):
        run = tdir / "runs" / "autoencode" / f"d3-s{seed}"
        assert {"autoencode.ipynb", "model.pt", "metrics.json", "complete.json", "reconstructions.png"} <= {
            p.name for p in run.iterdir()
        }
        record = json.loads((run / "complete.json").read_text())
        assert sorted(record["trained_with"]) == sorted(f"autoencode/d3-s{s}" for s in (0, 1, 2) if s != seed)
        assert record["seconds"] == pytest.approx(record["job_seconds"] / 3)  # the job's time, shared
        resources = json.loads((run / "resources.json").read_text())
        assert resources["models_trained_together"] == 3
        nb = json.loads((run / "autoencode.ipynb").read_text())
        assert CELL_RUNS in "".join("".join(c["source"]) for c in nb["cells"])  # the job's notebook
    second = _tables(tdir)
    assert sorted(first) == sorted(second) == ["autoencode", "correlate"]
    for stage in first:
        a, b = first[stage], second[stage]
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        for col in a.columns:
            if pd.api.types.is_float_dtype(a[col]):
                pd.testing.assert_series_equal(a[col], b[col], rtol=1e-4, atol=1e-7, obj=f"{stage}.{col}")
            else:
                assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), (stage, col)
    again = sweep.run_study(s, progress=False)  # seed by seed: nothing to redo
    assert {r["status"] for r in again} == {"cached"}


@pytest.mark.slow
def test_a_job_whose_notebook_fails_fails_each_of_its_runs_and_what_uses_them_skips(
    tmp_path, tmp_reports, fake_mnist, one_thread_kernels, monkeypatch
):
    nb_dir = tmp_path / "notebooks"
    shutil.copytree(REPO_ROOT / "notebooks", nb_dir)
    monkeypatch.setattr(config, "NOTEBOOKS", nb_dir)
    nb = nbformat.read(nb_dir / "autoencode.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell("if latent_dim == 4:\n    raise RuntimeError('injected for the test')")
    )
    nbformat.write(nb, nb_dir / "autoencode.ipynb")
    s = study(tmp_path, TINY.replace("seed: [0, 1, 2]", "seed: [0, 1]"))
    results = {  # two workers: the two cells' jobs at once
        f"{r['stage']}/{r['run_id']}": r
        for r in sweep.run_study(s, progress=False, workers=2, seeds_together=True)
    }
    assert {n: r["status"] for n, r in results.items()} == {
        "autoencode/d3-s0": "ok",
        "autoencode/d3-s1": "ok",
        "autoencode/d4-s0": "failed",
        "autoencode/d4-s1": "failed",
        "correlate/all": "skipped",
    }
    for seed, other in ((0, 1), (1, 0)):
        run = tmp_reports / "cell" / "runs" / "autoencode" / f"d4-s{seed}"
        failed = json.loads((run / "failed.json").read_text())
        assert "RuntimeError: injected for the test" in failed["error"]
        assert failed["trained_with"] == [f"autoencode/d4-s{other}"]
    assert (tmp_reports / "cell" / "runs" / "autoencode" / "d4-s0" / "autoencode.ipynb").exists()  # partial
    assert "autoencode/d4-s0 failed" in results["correlate/all"]["error"]
