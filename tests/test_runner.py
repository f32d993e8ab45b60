"""lib.params + lib.pipeline: grid expansion, run ids, `uses` wiring, early errors, and
(slow) a real papermill execution of the autoencode notebook and a cached 2-run sweep."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from lib import artifacts, pipeline
from lib.params import STAGE_ORDER, ParamsError, load_study

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_study(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


GRID_2x3 = """
    profile: unit
    data: {dataset: mnist, data_dir: data, train_size: 100, test_size: 50}
    stages:
      autoencode:
        grid: {latent_dim: [5, 10], num_conv: [1, 2, 3]}
        params: {c_factor: 2, fc_hidden: 8, epochs: 1}
"""

WIRED = """
    profile: wired
    stages:
      autoencode:
        grid: {latent_dim: [5, 10], num_conv: [1, 2]}
        params: {c_factor: 2, fc_hidden: 8, epochs: 1}
      transfer:
        uses: {autoencode: {num_conv: %s}}
        grid: {latent_dim: [5, 10]}
        params: {h1: [16], modes: [frozen], seeds: [0], steps: 2}
"""


@pytest.fixture
def stage_notebooks(tmp_path, monkeypatch) -> Path:
    """plan() hashes notebooks/<stage>.ipynb of every stage it plans. Stages whose notebook
    is not written yet get a stub in a temporary copy of notebooks/."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for stage in STAGE_ORDER:
        src = pipeline.NOTEBOOKS / f"{stage}.ipynb"
        if src.exists():
            shutil.copy(src, nb_dir / src.name)
        else:
            (nb_dir / src.name).write_text(json.dumps(
                {"cells": [{"cell_type": "code", "source": f"# stub {stage}", "metadata": {}}],
                 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setattr(pipeline, "NOTEBOOKS", nb_dir)
    return nb_dir


# ---------------------------------------------------------------- planning

def test_grid_expands_to_runs(tmp_path, tmp_reports):
    path = write_study(tmp_path, GRID_2x3)
    study = load_study(path)
    runs = pipeline.plan(study, data_checksum="abc")
    ids = [r.run_id for r in runs]
    assert ids == ["d5-nc1", "d5-nc2", "d5-nc3", "d10-nc1", "d10-nc2", "d10-nc3"]
    assert {r.stage for r in runs} == {"autoencode"}
    for r in runs:
        assert Path(r.dir) == tmp_reports / "unit" / "runs" / "autoencode" / r.run_id
        assert r.params["out_dir"] == r.dir
        assert r.params["latent_dim"] == r.grid["latent_dim"] and r.params["num_conv"] == r.grid["num_conv"]
        # fixed params, defaults and the data section are injected too
        assert (r.params["c_factor"], r.params["fc_hidden"], r.params["kernel_size"]) == (2, 8, 3)
        assert (r.params["train_size"], r.params["test_size"], r.params["dataset"]) == (100, 50, "mnist")
        assert r.upstream == [] and "checkpoints" not in r.params
    assert len({r.key for r in runs}) == 6

    again = pipeline.plan(load_study(path), data_checksum="abc")
    assert [(r.run_id, r.dir, r.key) for r in again] == [(r.run_id, r.dir, r.key) for r in runs]
    # the dataset checksum is part of the key; where reports live is not
    assert all(a.key != b.key for a, b in zip(runs, pipeline.plan(study, data_checksum="xyz")))


def test_key_covers_lib_code_and_notebook(tmp_path, monkeypatch):
    study = load_study(write_study(tmp_path, GRID_2x3))
    base = [r.key for r in pipeline.plan(study)]
    monkeypatch.setattr(pipeline, "lib_hash", lambda: "edited")
    edited = [r.key for r in pipeline.plan(study)]
    monkeypatch.setattr(pipeline, "notebook_hash", lambda stage: "edited")
    nb_edited = [r.key for r in pipeline.plan(study)]
    assert len(set(base) | set(edited) | set(nb_edited)) == 3 * len(base)


def test_keys_do_not_depend_on_reports_location(tmp_path, monkeypatch):
    study = load_study(write_study(tmp_path, GRID_2x3))
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "a"))
    first = pipeline.plan(study)
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "b"))
    second = pipeline.plan(study)
    assert [r.key for r in first] == [r.key for r in second]
    assert all(r.dir.startswith(str(tmp_path / "b")) for r in second)


def test_uses_wires_each_transfer_run_to_its_checkpoint(tmp_path, tmp_reports, stage_notebooks):
    study = load_study(write_study(tmp_path, WIRED % 2))
    runs = {r.name: r for r in pipeline.plan(study)}
    transfer = [r for r in runs.values() if r.stage == "transfer"]
    assert [r.run_id for r in transfer] == ["d5", "d10"]
    for r in transfer:
        d = r.grid["latent_dim"]
        up = runs[f"autoencode/d{d}-nc2"]
        assert r.upstream == [up.name]
        assert r.params["checkpoints"] == [str(Path(up.dir) / "model.pt")]
        assert Path(r.dir) == tmp_reports / "wired" / "runs" / "transfer" / f"d{d}"
    # a transfer run's key follows its upstream run's key
    changed = load_study(write_study(tmp_path, (WIRED % 2).replace("epochs: 1", "epochs: 2"), "b.yaml"))
    new = {r.name: r for r in pipeline.plan(changed)}
    assert new["transfer/d5"].key != runs["transfer/d5"].key


def test_uses_respects_fixed_params(tmp_path, tmp_reports, stage_notebooks):
    text = (WIRED % 2).replace("        grid: {latent_dim: [5, 10]}\n", "").replace(
        "params: {h1: [16]", "params: {latent_dim: 10, h1: [16]")
    runs = pipeline.plan(load_study(write_study(tmp_path, text)))
    (transfer,) = [r for r in runs if r.stage == "transfer"]
    assert transfer.upstream == ["autoencode/d10-nc2"]


def test_selection_matching_no_run_fails_before_anything_runs(tmp_path, tmp_reports, stage_notebooks,
                                                               fake_mnist):
    path = write_study(tmp_path, WIRED % 3)
    study = load_study(path)  # valid as a file: the mismatch is found when planning
    with pytest.raises(ParamsError) as info:
        pipeline.plan(study)
    msg = str(info.value)
    assert str(path) in msg and "stages.transfer.uses.autoencode.num_conv" in msg and "3" in msg
    with pytest.raises(ParamsError):
        pipeline.run_study(study, progress=False)
    assert not (tmp_reports / "wired" / "runs").exists()


def test_unknown_key_in_uses_is_a_params_error(tmp_path):
    path = write_study(tmp_path, (WIRED % 2).replace("{num_conv: 2}", "{numconv: 2}"))
    with pytest.raises(ParamsError, match=r"stages\.transfer\.uses\.autoencode\.numconv.*num_conv"):
        load_study(path)


NASTY = ["../../x", "..", ".", "/etc/passwd", "a/../../b", "..\\..\\x", "~", "", " ", "x/./..",
         "\x00evil", "../" * 50 + "deep"]


@pytest.mark.parametrize("value", NASTY, ids=[repr(v)[:20] for v in NASTY])
def test_run_ids_cannot_leave_their_folder(tmp_reports, value):
    base = tmp_reports / "p" / "runs" / "autoencode"
    for rid in (pipeline.safe_id(value), pipeline.run_id_for({"latent_dim": value}),
                pipeline.run_id_for({"latent_dim": 5, "num_conv": value})):
        assert rid and rid not in (".", "..")
        assert "/" not in rid and "\\" not in rid and "\x00" not in rid
        assert len(rid) <= 120
        assert (base / rid).resolve().parent == base.resolve()


def test_run_id_format():
    assert pipeline.run_id_for({"latent_dim": 5, "num_conv": 1}) == "d5-nc1"
    assert pipeline.run_id_for({}) == "all"
    assert pipeline.run_id_for({"h1": [200, 650]}) == "h200_650"


# ---------------------------------------------------------------- executing (slow)

@pytest.mark.slow
def test_autoencode_notebook_executes(tmp_path, mnist_dir, one_thread_kernels):
    import papermill as pm

    out = tmp_path / "run"
    epochs = 2
    pm.execute_notebook(
        str(REPO_ROOT / "notebooks" / "autoencode.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"dataset": "mnist", "data_dir": str(mnist_dir), "train_size": 300, "test_size": 200,
                    "fc_hidden": 32, "c_factor": 4, "epochs": epochs, "device": "cpu", "out_dir": str(out)},
        kernel_name="python3", language="python", cwd=str(REPO_ROOT), progress_bar=False)
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 < metrics["final_test_error"] < 0.3
    assert 0 < metrics["final_train_error"] < 0.3
    assert metrics["n_parameters"] > 0
    hist = metrics["history"]
    assert hist["epoch"] == list(range(1, epochs + 1))
    assert len(hist["train_error"]) == len(hist["test_error"]) == epochs
    assert hist["test_error"][-1] == pytest.approx(metrics["final_test_error"])
    model = artifacts.load_autoencoder(out / "model.pt")
    assert (model.cfg.c_factor, model.cfg.fc_hidden, model.cfg.latent_dim) == (4, 32, 10)
    from lib import models
    assert models.num_parameters(model) == metrics["n_parameters"]
    for png in ("loss_curves.png", "reconstructions.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    resources = json.loads((out / "resources.json").read_text())
    assert resources["train_seconds"] > 0 and resources["peak_rss_mb"] > 0


@pytest.mark.slow
def test_run_study_writes_table_then_caches(tmp_path, tmp_reports, fake_mnist, one_thread_kernels,
                                            monkeypatch):
    path = write_study(tmp_path, """
        profile: tiny
        data: {dataset: mnist, data_dir: data, train_size: 100, test_size: 50}
        stages:
          autoencode:
            grid: {latent_dim: [3, 4]}
            params: {num_conv: 1, c_factor: 2, fc_hidden: 8, epochs: 1, batch_size: 50, device: cpu}
    """)
    study = load_study(path)
    # the key covers lib/*.py: freeze it so an edit made meanwhile in this working tree
    # (other people work here too) cannot turn "cached" into a re-run
    frozen = pipeline.lib_hash()
    monkeypatch.setattr(pipeline, "lib_hash", lambda: frozen)
    first = pipeline.run_study(study, progress=False)
    assert [(r["run_id"], r["status"]) for r in first] == [("d3", "ok"), ("d4", "ok")], first
    import pandas as pd

    pdir = tmp_reports / "tiny"
    table = pd.read_csv(pdir / "tables" / "autoencode.csv")
    assert len(table) == 2
    assert set(table["status"]) == {"ok"}
    assert {"run_id", "latent_dim", "num_conv", "final_test_error", "final_train_error",
            "n_parameters"} <= set(table.columns)
    assert table["final_test_error"].between(0, 1).all() and (table["n_parameters"] > 0).all()
    assert json.loads((pdir / "runs.json").read_text())["runs"][0]["status"] == "ok"
    for run_id in ("d3", "d4"):
        run_dir = pdir / "runs" / "autoencode" / run_id
        record, reason = artifacts.verify_completion(run_dir)
        assert reason == "" and {"model.pt", "metrics.json", "autoencode.ipynb"} <= set(record["artifacts"])

    second = pipeline.run_study(study, progress=False)
    assert [r["status"] for r in second] == ["cached", "cached"], second
    assert len(pd.read_csv(pdir / "tables" / "autoencode.csv")) == 2

    # a damaged artifact makes that run incomplete (re-run next time); the other stays complete
    from lib import data

    runs = {r.run_id: r for r in pipeline.plan(study, data.checksum("mnist"))}
    assert [r.key for r in runs.values()] == [r["key"] for r in second]
    (Path(runs["d3"].dir) / "metrics.json").write_text("{}")
    assert pipeline.run_status(runs["d3"])[0] == "incomplete"
    assert pipeline.run_status(runs["d4"]) == ("complete", "")


PARAM_FILES = sorted((REPO_ROOT / "params").glob("*.yaml"))


@pytest.mark.parametrize("path", PARAM_FILES, ids=[p.name for p in PARAM_FILES])
def test_committed_param_files_plan(path, tmp_reports):
    study = load_study(path)
    runs = pipeline.plan(study)
    by_name = {r.name: r for r in runs}
    assert len(by_name) == len(runs)
    for r in runs:
        assert Path(r.dir).is_relative_to(tmp_reports / study.profile / "runs" / r.stage)
        for up in r.upstream:  # upstream runs come first and exist
            assert list(by_name).index(up) < list(by_name).index(r.name)
        if r.stage == "transfer":  # one encoder per transfer run, with the run's latent_dim
            (up,) = r.upstream
            assert by_name[up].params["latent_dim"] == r.params["latent_dim"]
            assert r.params["checkpoints"] == [str(Path(by_name[up].dir) / "model.pt")]
