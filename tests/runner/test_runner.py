"""The runner: parameter files, grid expansion, run ids, `uses` / `for_each` wiring, early errors,
inputs and keys, status reasons, and (slow) a real papermill execution and a cached sweep."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from aestudy import ondisk
from aestudy.runner import records, sweep
from aestudy.runner.paramfile import load_study
from aestudy.runner.plan import plan, run_id_for, safe_id
from aestudy.schema import ParamsError
from aestudy.science import artifacts
from aestudy.study import STAGES

REPO_ROOT = Path(__file__).resolve().parents[2]


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
        grid: {latent_dim: [5, 10], num_conv: [1, 2], seed: [0, 1]}
        params: {c_factor: 2, fc_hidden: 8, epochs: 1}
      correlate:
        uses: {autoencode: {}}
      transfer:
        uses: {autoencode: {num_conv: %s}}
        for_each: autoencode
        params: {h1: [16], modes: [frozen], label_seeds: [0]}
"""


def inputs_of(runs, checksum="abc"):
    """Every run's inputs as if every upstream run had completed with key 'k:<name>'."""
    return {r.name: records.inputs(r, {u: f"k:{u}" for u in r.upstream}, checksum) for r in runs}


# ---------------------------------------------------------------- planning


def test_grid_expands_to_runs(tmp_path, tmp_reports):
    path = write_study(tmp_path, GRID_2x3)
    study = load_study(path)
    runs = plan(study)
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
    keyed = inputs_of(runs)
    assert len({json.dumps(v, sort_keys=True) for v in keyed.values()}) == 6
    assert inputs_of(plan(load_study(path))) == keyed
    # the dataset checksum is an input; where reports and data live, and the device, are not
    assert all(keyed[n]["data"] == "abc" for n in keyed)
    assert not {"out_dir", "data_dir", "device"} & set(keyed["autoencode/d5-nc1"]["params"])


def test_inputs_do_not_depend_on_reports_location(tmp_path, monkeypatch):
    study = load_study(write_study(tmp_path, GRID_2x3))
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "a"))
    first = plan(study)
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "b"))
    second = plan(study)
    assert list(inputs_of(first).values()) == list(inputs_of(second).values())
    assert all(r.dir.startswith(str(tmp_path / "b")) for r in second)


def test_for_each_makes_one_run_per_encoder_seeds_included(tmp_path, tmp_reports):
    study = load_study(write_study(tmp_path, WIRED % 2))
    runs = {r.name: r for r in plan(study)}
    transfer = [r for r in runs.values() if r.stage == "transfer"]
    assert [r.run_id for r in transfer] == ["d5-nc2-s0", "d5-nc2-s1", "d10-nc2-s0", "d10-nc2-s1"]
    for r in transfer:
        up = runs[f"autoencode/{r.run_id}"]
        assert r.upstream == [up.name]
        assert r.grid == up.grid  # the encoder's grid (latent_dim, num_conv, seed) names the run
        assert r.params["checkpoints"] == [str(Path(up.dir) / STAGES["autoencode"].produces)]
        assert Path(r.dir) == tmp_reports / "wired" / "runs" / "transfer" / r.run_id
    # a stage without for_each consumes every selected run in one run
    (corr,) = [r for r in runs.values() if r.stage == "correlate"]
    assert corr.run_id == "all" and len(corr.upstream) == len(corr.params["checkpoints"]) == 8


def test_a_runs_inputs_follow_its_upstream_keys(tmp_path, tmp_reports):
    runs = plan(load_study(write_study(tmp_path, WIRED % 2)))
    (t,) = [r for r in runs if r.name == "transfer/d5-nc2-s0"]
    a = records.inputs(t, {"autoencode/d5-nc2-s0": "one"}, "abc")
    b = records.inputs(t, {"autoencode/d5-nc2-s0": "two"}, "abc")
    assert records.key(a, {}) != records.key(b, {})
    assert records.input_changes(a, b) == ["upstream autoencode/d5-nc2-s0 changed"]


def test_selection_matching_no_run_fails_before_anything_runs(tmp_path, tmp_reports, fake_mnist):
    path = write_study(tmp_path, WIRED % 3)
    study = load_study(path)  # valid as a file: the mismatch is found when planning
    with pytest.raises(ParamsError) as info:
        plan(study)
    msg = str(info.value)
    assert str(path) in msg and "stages.transfer.uses.autoencode.num_conv" in msg and "3" in msg
    with pytest.raises(ParamsError):
        sweep.run_study(study, progress=False)
    assert not (tmp_reports / "wired" / "runs").exists()


def test_unknown_key_in_uses_is_a_params_error(tmp_path):
    path = write_study(tmp_path, (WIRED % 2).replace("{num_conv: 2}", "{numconv: 2}"))
    with pytest.raises(ParamsError, match=r"stages\.transfer\.uses\.autoencode\.numconv.*num_conv"):
        load_study(path)


def test_for_each_must_name_a_used_stage(tmp_path):
    path = write_study(tmp_path, (WIRED % 2).replace("for_each: autoencode", "for_each: correlate"))
    with pytest.raises(ParamsError, match=r"stages\.transfer\.for_each: 'correlate'"):
        load_study(path)


NASTY = [
    "../../x",
    "..",
    ".",
    "/etc/passwd",
    "a/../../b",
    "..\\..\\x",
    "~",
    "",
    " ",
    "x/./..",
    "\x00evil",
    "../" * 50 + "deep",
]


@pytest.mark.parametrize("value", NASTY, ids=[repr(v)[:20] for v in NASTY])
def test_run_ids_cannot_leave_their_folder(tmp_reports, value):
    base = tmp_reports / "p" / "runs" / "autoencode"
    for rid in (
        safe_id(value),
        run_id_for("autoencode", {"latent_dim": value}),
        run_id_for("autoencode", {"latent_dim": 5, "num_conv": value}),
        run_id_for("transfer", {}, prefix=value),
    ):
        assert rid and rid not in (".", "..")
        assert "/" not in rid and "\\" not in rid and "\x00" not in rid
        assert len(rid) <= 120
        assert (base / rid).resolve().parent == base.resolve()


def test_run_id_format():
    assert run_id_for("autoencode", {"latent_dim": 5, "num_conv": 1, "seed": 2}) == "d5-nc1-s2"
    assert run_id_for("correlate", {}) == "all"
    assert run_id_for("transfer", {"h1": [200, 650]}) == "h200_650"
    assert run_id_for("transfer", {"h1": 200}, prefix="d5-nc1-s0") == "d5-nc1-s0-h200"


def test_status_reasons_name_what_changed(tmp_path):
    old = {
        "notebook": "a",
        "params": {"lr": 0.001, "epochs": 1},
        "data": "x",
        "upstream": {"autoencode/d5": "1"},
    }
    new = {
        "notebook": "b",
        "params": {"lr": 0.002, "epochs": 1, "seed": 3},
        "data": "y",
        "upstream": {"autoencode/d5": "2", "autoencode/d10": "3"},
    }
    assert records.input_changes(old, new) == [
        "notebook changed",
        "parameter lr: 0.001 -> 0.002",
        "parameter seed: '(unset)' -> 3",
        "dataset changed",
        "upstream autoencode/d10 newly used",
        "upstream autoencode/d5 changed",
    ]
    assert records.input_changes(old, old) == []


# ---------------------------------------------------------------- executing (slow)


@pytest.mark.slow
def test_autoencode_notebook_executes(tmp_path, mnist_dir, one_thread_kernels):
    import papermill as pm

    out = tmp_path / "run"
    epochs = 2
    pm.execute_notebook(
        str(REPO_ROOT / "notebooks" / "autoencode.ipynb"),
        str(tmp_path / "executed.ipynb"),
        parameters={
            "dataset": "mnist",
            "data_dir": str(mnist_dir),
            "train_size": 300,
            "test_size": 200,
            "fc_hidden": 32,
            "c_factor": 4,
            "epochs": epochs,
            "device": "cpu",
            "out_dir": str(out),
        },
        kernel_name="python3",
        language="python",
        cwd=str(REPO_ROOT),
        progress_bar=False,
    )
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
    from aestudy.science import models

    assert models.num_parameters(model) == metrics["n_parameters"]
    for png in ("loss_curves.png", "reconstructions.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    resources = json.loads((out / "resources.json").read_text())
    assert resources["train_seconds"] > 0 and resources["peak_rss_mb"] > 0


@pytest.mark.slow
def test_run_study_writes_table_then_caches(tmp_path, tmp_reports, fake_mnist, one_thread_kernels):
    path = write_study(
        tmp_path,
        """
        profile: tiny
        data: {dataset: mnist, data_dir: data, train_size: 100, test_size: 50}
        stages:
          autoencode:
            grid: {latent_dim: [3, 4]}
            params: {num_conv: 1, c_factor: 2, fc_hidden: 8, epochs: 1, batch_size: 50, device: cpu}
    """,
    )
    study = load_study(path)
    first = sweep.run_study(study, progress=False)
    assert [(r["run_id"], r["status"]) for r in first] == [("d3", "ok"), ("d4", "ok")], first
    import pandas as pd

    pdir = tmp_reports / "tiny"
    table = pd.read_csv(pdir / "tables" / "autoencode.csv")
    assert len(table) == 2
    assert set(table["status"]) == {"ok"}
    assert {
        "run_id",
        "latent_dim",
        "num_conv",
        "final_test_error",
        "final_train_error",
        "n_parameters",
    } <= set(table.columns)
    assert table["final_test_error"].between(0, 1).all() and (table["n_parameters"] > 0).all()
    assert json.loads((pdir / "runs.json").read_text())["runs"][0]["status"] == "ok"
    for run_id in ("d3", "d4"):
        run_dir = pdir / "runs" / "autoencode" / run_id
        record, reason = records.verify_completion(run_dir)
        assert reason == "" and {"model.pt", "metrics.json", "autoencode.ipynb"} <= set(record["artifacts"])
        # the modules the kernel imported, recorded while it ran: the model code, not the report's
        modules = record["modules"]
        assert (
            "lib/aestudy/science/models.py" in modules
            and "lib/aestudy/experiments/autoencode/run.py" in modules
        )
        assert not [m for m in modules if "/report/" in m or "/runner/" in m or m.endswith("transfer.py")]
        assert record["key"] == records.key(record["inputs"], modules)
        executed = json.loads((run_dir / "autoencode.ipynb").read_text())
        assert not any("runner-modules" in c["metadata"].get("tags", []) for c in executed["cells"])

    second = sweep.run_study(study, progress=False)
    assert [r["status"] for r in second] == ["cached", "cached"], second
    assert [r["key"] for r in second] == [r["key"] for r in first]
    cached = pd.read_csv(pdir / "tables" / "autoencode.csv")
    assert len(cached) == 2 and list(cached.columns[:2]) == list(ondisk.TABLE_COLUMNS)
    # a cached run's seconds are its execution's, from its record, not the none this sweep spent
    recorded = [
        records.verify_completion(pdir / "runs" / "autoencode" / i)[0]["seconds"] for i in ("d3", "d4")
    ]
    assert cached["seconds"].tolist() == pytest.approx(recorded) and min(recorded) > 0
    assert [(r["state"], r["reason"]) for r in sweep.status(study)] == [("complete", ""), ("complete", "")]

    # a damaged artifact makes that run incomplete (re-run next time); the other stays complete
    (pdir / "runs" / "autoencode" / "d3" / "metrics.json").write_text("{}")
    states = {r["run"]: (r["state"], r["reason"]) for r in sweep.status(study)}
    assert states["autoencode/d3"][0] == "incomplete" and "metrics.json" in states["autoencode/d3"][1]
    assert states["autoencode/d4"] == ("complete", "")

    # a folder this parameter file does not plan (an earlier grid's run) is named, not mistaken for a run
    (pdir / "runs" / "autoencode" / "d9").mkdir()
    rows = sweep.status(study)
    assert [r["run"] for r in rows] == ["autoencode/d3", "autoencode/d4", "autoencode/d9"]
    assert (
        rows[-1]["state"] == "unplanned" and "not in" in rows[-1]["reason"] and "plan" in rows[-1]["reason"]
    )
    assert [r["run_id"] for r in sweep.run_study(study, progress=False)] == ["d3", "d4"]


PARAM_FILES = sorted((REPO_ROOT / "params").glob("*.yaml"))


@pytest.mark.parametrize("path", PARAM_FILES, ids=[p.name for p in PARAM_FILES])
def test_committed_param_files_plan(path, tmp_reports):
    study = load_study(path)
    runs = plan(study)
    by_name = {r.name: r for r in runs}
    assert len(by_name) == len(runs)
    for r in runs:
        assert Path(r.dir).is_relative_to(tmp_reports / study.profile / "runs" / r.stage)
        for up in r.upstream:  # upstream runs come first and exist
            assert list(by_name).index(up) < list(by_name).index(r.name)
        if (
            r.stage == "transfer"
        ):  # one encoder per transfer run, named by the encoder's grid, and the protocols
            up, *protos = r.upstream
            assert by_name[up].grid == r.grid and all(p.startswith("protocol/") for p in protos)
            assert r.params["checkpoints"] == [str(Path(by_name[up].dir) / "model.pt")]
            assert r.params["protocols"] == [str(Path(by_name[p].dir) / "protocol.json") for p in protos]
            chosen = [m for p in protos for m in by_name[p].params["modes"]]  # every mode chosen once
            assert sorted(chosen) == sorted(r.params["modes"]) and len(set(chosen)) == len(chosen)


def test_a_grid_over_modes_gives_a_protocol_run_per_mode_named_after_it(tmp_reports):
    runs = [r for r in plan(load_study(REPO_ROOT / "params" / "default.yaml")) if r.stage == "protocol"]
    assert [r.run_id for r in runs] == ["frozen", "finetune", "scratch", "augmented"]
    assert [r.params["modes"] for r in runs] == [["frozen"], ["finetune"], ["scratch"], ["augmented"]]


def test_an_interrupted_sweep_writes_runs_json_and_raises_keyboard_interrupt(
    tmp_path, tmp_reports, monkeypatch
):
    """Ctrl-C (or SIGTERM) under any executor: runs.json is written once the executor has
    stopped, the finished runs as they ended and the others "interrupted"; the interrupt goes on
    to the command (exit 130)."""
    study = load_study(write_study(tmp_path, GRID_2x3))
    stopped = []

    class Interrupted:
        workers_used = 3

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            stopped.append(exc[0])
            return False

        def run_graph(self, fn, runs, *args, **kwargs):
            r = runs[0]
            yield {
                "stage": r.stage,
                "run_id": r.run_id,
                "dir": r.dir,
                "grid": r.grid,
                "status": "ok",
                "error": "",
                "seconds": 1.0,
                "key": "k",
                "attempts": 1,
            }
            raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "make_executor", lambda *a, **k: Interrupted())
    monkeypatch.setattr(sweep, "data_checksum", lambda study, download=True: "abc")
    with pytest.raises(KeyboardInterrupt):
        sweep.run_study(study, executor="slurm", progress=False)
    assert stopped == [KeyboardInterrupt]  # the executor stopped (its jobs cancelled) first
    record = json.loads((tmp_reports / "unit" / "runs.json").read_text())
    assert record["interrupted"] is True and record["workers"] == 3
    assert [r["status"] for r in record["runs"]] == ["ok"] + ["interrupted"] * 5


def test_a_misspelt_stage_is_named_with_the_stages_there_are(tmp_path, tmp_reports):
    """`--stage transfr` used to run nothing, re-render and exit 0: it now names the file, the
    stages it has and the nearest one, before anything is planned or executed."""
    from aestudy.messages import ParamsError

    study = load_study(write_study(tmp_path, WIRED % 2))
    with pytest.raises(
        ParamsError, match=r"--stage autoencod: .* has no such stage \(its stages: autoencode, "
    ):
        sweep.run_study(study, stages=["autoencod"], progress=False)
    with pytest.raises(ParamsError, match="did you mean 'autoencode'"):
        sweep.run_study(study, stages=["autoencod"], progress=False)
    assert not (tmp_reports / "wired").exists()  # nothing planned, nothing written


def test_status_without_the_dataset_says_unknown_and_downloads_nothing(tmp_path, tmp_reports, monkeypatch):
    """`status` executes nothing: without the dataset's files it neither downloads them (it used to
    try, and exit 2 after seconds) nor guesses; each data-reading run, and what uses it, is unknown."""
    import aestudy.science.data as science_data

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.setattr(science_data, "ensure_dataset", lambda *a, **k: pytest.fail("status downloaded"))
    rows = sweep.status(load_study(write_study(tmp_path, WIRED % 2)))
    assert {r["state"] for r in rows} == {"unknown"}
    by_run = {r["run"]: r["reason"] for r in rows}
    assert (
        by_run["autoencode/d5-nc1-s0"].startswith("no dataset in ")
        and "(set DATA_DIR)" in by_run["autoencode/d5-nc1-s0"]
    )
    assert not (tmp_path / "nothing-here").exists()


def test_the_executed_notebook_says_where_data_dir_was_overridden_by_data_dir_env(tmp_path, monkeypatch):
    """The injected parameters show the parameter file's data_dir ("data"); when DATA_DIR won,
    the executed notebook says where the data were read instead, under that value."""
    import nbformat

    from aestudy.runner.surgery import strip_runner_cells

    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell('# Parameters\ndataset = "mnist"\ndata_dir = "data"\n')
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells = [nbformat.v4.new_code_cell('data_dir = "data"'), injected]
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    monkeypatch.delenv("DATA_DIR", raising=False)
    strip_runner_cells(path)
    assert "DATA_DIR" not in path.read_text()
    monkeypatch.setenv("DATA_DIR", "/shared/data")
    strip_runner_cells(path)
    cells = nbformat.read(path, as_version=4).cells
    assert "DATA_DIR" not in cells[0].source  # the parameters cell: the notebook's own default
    assert cells[1].source.endswith(
        'data_dir = "data"\n# DATA_DIR=/shared/data was set: the data were read there, not from data_dir'
    )
