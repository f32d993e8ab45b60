"""Live progress of `python -m lib run`: the file a run's code writes (a no-op outside the
runner), what the display draws from the progress files (plain lines when not on a terminal,
bars on one), the ETA, and (slow) a stub run through the runner that is followed and leaves no
progress file behind."""

from __future__ import annotations

import io
import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest

from aestudy import progress_file
from aestudy.runner import eta, progress, progress_plain, records, sweep
from aestudy.runner.paramfile import load_study
from conftest import use_stand_in_notebooks


@pytest.fixture
def fresh_throttle(monkeypatch):
    monkeypatch.setattr(progress_file, "_last", {})


def test_progress_writer_is_a_no_op_without_the_env_var(tmp_path, monkeypatch, fresh_throttle):
    monkeypatch.delenv(progress_file.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    progress_file.report(1, 3, "epoch")
    assert list(tmp_path.iterdir()) == [] and progress_file._last == {}


def test_progress_writer_writes_atomically_throttled_and_never_raises(tmp_path, monkeypatch, fresh_throttle):
    path = tmp_path / "kernel.json"
    monkeypatch.setenv(progress_file.ENV, str(path))
    renames = []
    real_replace = os.replace

    def replace(src, dst):  # the record is complete under a temporary name in the same folder first
        renames.append((Path(src), json.loads(Path(src).read_text())))
        real_replace(src, dst)

    monkeypatch.setattr(progress_file.os, "replace", replace)
    progress_file.report(0.5, 3, "epoch")
    assert json.loads(path.read_text()) == {"done": 0.5, "total": 3, "unit": "epoch"}
    assert renames[0][0].parent == tmp_path and renames[0][0] != path
    progress_file.report(0.9, 3, "epoch")  # within EVERY_S of the last write: skipped
    assert progress_file.read(path)["done"] == 0.5
    progress_file.report(3, 3, "epoch")  # the last step is always written
    assert progress_file.read(path)["done"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kernel.json"]  # no temporary file left
    monkeypatch.setenv(progress_file.ENV, str(tmp_path / "gone" / "kernel.json"))
    progress_file.report(3, 3, "epoch")  # a folder that is not there: nothing written, nothing raised
    assert not (tmp_path / "gone").exists()


def test_describe_says_the_epoch_and_cell_in_progress():
    cells = {"done": 3, "total": 8, "unit": "cell"}
    assert progress.describe(cells, {"done": 1.4, "total": 3, "unit": "epoch"}) == (
        pytest.approx(1.4 / 3),
        "epoch 2/3, cell 4/8",
    )
    assert progress.describe(cells, None) == (3 / 8, "cell 4/8")
    assert progress.describe(
        {"done": 8, "total": 8, "unit": "cell"}, {"done": 3, "total": 3, "unit": "epoch"}
    ) == (1.0, "epoch 3/3, cell 8/8")
    assert progress.describe(None, None) == (0.0, "starting")


def test_overall_eta_follows_the_pace_of_executed_work():
    assert progress.eta(60.0, 2.0, 4.0) == 120.0  # 2 runs' work in a minute, 4 left: 2 more minutes
    assert progress.eta(60.0, 1.5, 1.5) == 60.0  # fractions of runs in flight count
    assert progress.eta(5.0, 0.1, 10.0) is None  # no pace yet
    assert progress.eta(5.0, 0.0, 0.0) == 0.0
    assert [progress.duration(s) for s in (None, 9.4, 130, 3909)] == ["?", "0:09", "2:10", "1:05:09"]


def test_cell_hooks_count_code_cells_and_are_absent_outside_the_runner(tmp_path, monkeypatch):
    monkeypatch.delenv(progress_file.ENV, raising=False)
    assert progress.cell_hooks() == {}  # papermill by hand, JupyterLab: no hook, nothing written
    monkeypatch.setenv(progress_file.ENV, str(tmp_path / progress.KERNEL_FILE))
    (tmp_path / progress.KERNEL_FILE).write_text(
        '{"done": 3, "total": 3, "unit": "epoch"}'
    )  # an earlier attempt
    hooks = progress.cell_hooks()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# title"),
            nbformat.v4.new_code_cell("a = 1"),
            nbformat.v4.new_code_cell(""),
            nbformat.v4.new_code_cell("b = 2"),
        ]
    )
    cells = tmp_path / progress.CELLS_FILE
    hooks["on_notebook_start"](notebook=nb)
    assert progress_file.read(cells) == {"done": 0, "total": 2, "unit": "cell"}
    assert not (tmp_path / progress.KERNEL_FILE).exists()
    hooks["on_cell_start"](cell=nb.cells[0], cell_index=0)  # markdown: not counted
    assert progress_file.read(cells)["done"] == 0
    hooks["on_cell_start"](cell=nb.cells[3], cell_index=3)
    assert progress_file.read(cells)["done"] == 1
    hooks["on_cell_executed"](cell=nb.cells[3], cell_index=3, execute_reply={})
    assert progress_file.read(cells)["done"] == 2


class FakeRun:
    def __init__(self, stage, run_id):
        self.stage, self.run_id = stage, run_id


def in_flight(folder: Path, stage: str, run_id: str, cells=None, inner=None) -> None:
    """What a worker and its kernel write while a run executes."""
    (folder / stage / run_id).mkdir(parents=True, exist_ok=True)
    if cells:
        progress_file.write(
            folder / stage / run_id / progress.CELLS_FILE, dict(zip(("done", "total", "unit"), cells))
        )
    if inner:
        progress_file.write(
            folder / stage / run_id / progress.KERNEL_FILE, dict(zip(("done", "total", "unit"), inner))
        )


def result(stage, run_id, status="ok", seconds=12.0, error=""):
    return {
        "stage": stage,
        "run_id": run_id,
        "status": status,
        "seconds": seconds,
        "error": error,
        "attempts": 1,
    }


def test_plain_lines_when_not_a_terminal_list_runs_in_flight_with_their_progress(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "POLL_S", 3600.0)  # the test polls by hand
    monkeypatch.setattr(progress_plain, "PLAIN_EVERY_S", 0.0)
    out, folder = io.StringIO(), tmp_path / "prof" / progress.PROGRESS_DIR
    (folder / "old" / "run").mkdir(parents=True)  # left by a killed command: cleared
    with progress.Display("prof", 4, folder, stream=out) as display:
        assert display.live is False and not (folder / "old").exists()
        in_flight(folder, "autoencode", "d5-nc1", cells=(3, 8, "cell"), inner=(1.5, 3, "epoch"))
        in_flight(folder, "theory", "all", cells=(1, 4, "cell"))
        display.poll()
        display.poll()
        display.finished(result("autoencode", "d5-nc1"))
        display.finished(result("autoencode", "d10-nc1", status="cached", seconds=0.0))
        display.finished(result("theory", "all", status="failed", error="ValueError: bad"))
        display.poll()  # a finished run is not in flight any more
    lines = out.getvalue().splitlines()
    text = "\n".join(lines)
    assert lines[0] == "prof: 4 runs"
    assert "start   autoencode/d5-nc1" in text and "start   theory/all" in text
    running = [ln for ln in lines if "running autoencode/d5-nc1" in ln]
    assert len(running) == 2 and "epoch 2/3, cell 4/8" in running[0]
    assert [ln for ln in lines if "running theory/all" in ln][0].split("all", 1)[1].split()[:2] == [
        "cell",
        "2/4",
    ]
    ok = next(ln for ln in lines if ln.startswith("[") and ln.split("]", 1)[1].split()[0] == "ok")
    assert "autoencode/d5-nc1  12.0 s" in ok and "1/4 runs, 1 running, ETA" in ok
    assert "failed  theory/all" in text and "ValueError: bad" in text
    assert "d10-nc1" not in text  # cached runs are counted, not listed
    assert lines[-1].startswith("prof: 3/4 runs in ") and "1 ok, 1 cached, 1 failed" in lines[-1]
    assert not any("] running " in ln for ln in lines[lines.index(ok) :])
    assert not folder.exists()  # the channel is gone with the sweep


def test_live_view_draws_bars_and_lists_finished_runs(tmp_path, monkeypatch):
    pytest.importorskip("rich")
    monkeypatch.setattr(progress, "POLL_S", 3600.0)
    out, folder = io.StringIO(), tmp_path / progress.PROGRESS_DIR
    with progress.Display("prof", 2, folder, stream=out, live=True) as display:
        in_flight(folder, "autoencode", "d5-nc1", cells=(3, 8, "cell"), inner=(1.5, 3, "epoch"))
        display.poll()
        assert [t.description for t in display.view.bar.tasks] == ["prof", "  autoencode/d5-nc1"]
        assert display.view.bar.tasks[1].fields["info"].startswith("epoch 2/3, cell 4/8")
        assert display.view.bar.tasks[0].fields["info"].startswith("0/2 runs, 1 running, ETA")
        display.finished(result("autoencode", "d5-nc1"))
        assert [t.description for t in display.view.bar.tasks] == ["prof"]
    text = out.getvalue()
    assert "ok      autoencode/d5-nc1  12.0 s" in text and "1/2 runs" in text


def test_disabled_display_writes_nothing_and_gives_runs_no_progress_folder(tmp_path):
    out = io.StringIO()
    with progress.Display("prof", 1, tmp_path / progress.PROGRESS_DIR, enabled=False, stream=out) as display:
        assert display.folder is None
        display.finished(result("autoencode", "d5-nc1"))
        with progress.tracking(display.folder, FakeRun("autoencode", "d5-nc1")) as folder:
            assert folder is None and progress_file.ENV not in os.environ
    assert out.getvalue() == "" and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ through the runner (slow)

STUDY = """
profile: live
data: {dataset: mnist, data_dir: data, train_size: 200, test_size: 100}
stages:
  autoencode:
    grid: {latent_dim: [3]}
    params: {num_conv: 1, epochs: 3}
"""


def stepping_stub(path: Path) -> None:
    """An `autoencode` stand-in that reports three epochs (no torch), slowly enough to be seen."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("latent_dim = 1\nnum_conv = 1\nepochs = 1\nout_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            textwrap.dedent("""\
        import json, pathlib, time
        from aestudy import progress_file
        for epoch in range(1, epochs + 1):
            time.sleep(0.7)
            progress_file.report(epoch, epochs, "epoch")
        (pathlib.Path(out_dir) / "metrics.json").write_text(json.dumps({"epochs": epochs}))
        """)
        ),
        nbformat.v4.new_code_cell("time.sleep(0.5)"),
    ]
    nbformat.write(nb, path)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_stub_run_through_the_runner_is_followed_and_leaves_no_progress_file(
    tmp_path, tmp_reports, fake_mnist, monkeypatch, capsys, workers
):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    stepping_stub(nb_dir / "autoencode.ipynb")
    use_stand_in_notebooks(monkeypatch, nb_dir)
    monkeypatch.setattr(progress, "POLL_S", 0.1)
    monkeypatch.setattr(progress_plain, "PLAIN_EVERY_S", 0.0)
    params = tmp_path / "live.yaml"
    params.write_text(STUDY)
    (res,) = sweep.run_study(load_study(params), workers=workers)
    assert res["status"] == "ok", res
    err = capsys.readouterr().err
    assert "start   autoencode/d3" in err
    seen = {
        ln.split("autoencode/d3", 1)[1].split()[1] for ln in err.splitlines() if "running autoencode/d3" in ln
    }
    assert {"1/3,", "2/3,", "3/3,"} & seen, err  # the kernel's epochs reached the display
    assert any("cell " in ln for ln in err.splitlines() if "running autoencode/d3" in ln), err
    assert "ok      autoencode/d3" in err and "1/1 runs" in err
    assert not (tmp_reports / "live" / progress.PROGRESS_DIR).exists()
    record, why = records.verify_completion(res["dir"])
    assert record is not None, why
    # the notebook, its metrics and the stage's declared products (conftest.contract_cell); no progress file
    assert sorted(record["artifacts"]) == [
        "autoencode.ipynb",
        "metrics.json",
        "model.pt",
        "reconstructions.png",
    ]
    assert progress_file.ENV not in os.environ


def test_a_transfer_run_tells_the_runner_every_model_even_without_its_progress_bar(monkeypatch):
    """With progress=False (no tqdm bar) the runner's progress file still counts every model (a
    disabled tqdm bar counts nothing: `progress_bar.LoopProgress` counts itself)."""
    import torch

    from aestudy.experiments.transfer import run as transfer
    from aestudy.science import data
    from aestudy.science.models import AEConfig, Encoder

    seen = []
    monkeypatch.setattr(progress_file, "report", lambda done, total, unit: seen.append((done, total, unit)))
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    split = lambda n: data.Split(torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 10)  # noqa: E731
    encoder = Encoder(AEConfig(latent_dim=4, num_conv=1, c_factor=2, kernel_size=3, fc_hidden=16))
    transfer.run(
        encoder,
        split(200),
        split(50),
        [8],
        ["frozen", "scratch"],
        [0, 1],
        n_labels=20,
        protocols={"scratch": {"chosen": {"steps": 2}}},
        baselines=False,
        device="cpu",
        progress=False,
    )
    assert seen == [(n, 4, "model") for n in range(1, 5)]


# ------------------------------------------------------------------ the ETA weighs runs by expected cost


class PlannedRun:
    def __init__(self, stage, run_id, grid, folder, seconds=None, record="complete.json"):
        self.stage, self.run_id, self.grid = stage, run_id, grid
        self.dir = str(folder / stage / run_id)
        if seconds is not None:  # what an earlier command recorded for this run id
            Path(self.dir).mkdir(parents=True)
            (Path(self.dir) / record).write_text(json.dumps({"status": "ok", "seconds": seconds}))

    @property
    def name(self):
        return f"{self.stage}/{self.run_id}"


def test_expected_cost_prefers_the_run_ids_record_then_its_nearest_siblings(tmp_path):
    runs = [
        PlannedRun("autoencode", "d5-nc1-s0", {"latent_dim": 5, "num_conv": 1, "seed": 0}, tmp_path, 10.0),
        PlannedRun("autoencode", "d5-nc3-s0", {"latent_dim": 5, "num_conv": 3, "seed": 0}, tmp_path, 50.0),
        PlannedRun("autoencode", "d5-nc3-s1", {"latent_dim": 5, "num_conv": 3, "seed": 1}, tmp_path),
        PlannedRun(
            "autoencode",
            "d5-nc1-s1",
            {"latent_dim": 5, "num_conv": 1, "seed": 1},
            tmp_path,
            12.0,
            "failed.json",
        ),
        PlannedRun("semisup", "all", {}, tmp_path),
        PlannedRun("theory", "all", {}, tmp_path),
    ]
    costs = eta.Costs(runs, declared={"semisup": 240.0})
    assert costs.expected("autoencode/d5-nc1-s0") == 10.0  # its own last record
    assert costs.expected("autoencode/d5-nc1-s1") == 12.0  # a failed run's record counts too
    assert costs.expected("autoencode/d5-nc3-s1") == 50.0  # no record: its sibling of the same size
    assert costs.expected("semisup/all") == 240.0  # nothing known of the stage: declared
    assert costs.expected("theory/all") == pytest.approx(72.0 / 3)  # nothing at all: the mean of all known
    costs.finished("autoencode/d5-nc3-s1", "ok", 60.0)
    assert costs.expected("autoencode/d5-nc3-s1") == 60.0  # once done: what it took
    costs.finished("autoencode/d5-nc1-s0", "cached", 0.0)
    assert costs.expected("autoencode/d5-nc1-s0") == 0.0  # up to date: it costs nothing


def test_an_unseen_model_size_is_expected_to_cost_what_its_arithmetic_says(tmp_path):
    """Before any num_conv = 3 autoencoder has finished, its seconds come from the smaller models'
    scaled by the multiply-accumulates of its training (experiments.autoencode.cost), not from the
    nearest sibling's; the default profile measured 11, 21 and 81 s (2026-12-06, float32, 2 cores)."""

    def ae(nc, seed, seconds=None):
        run = PlannedRun(
            "autoencode",
            f"d10-nc{nc}-s{seed}",
            {"latent_dim": 10, "num_conv": nc, "seed": seed},
            tmp_path,
            seconds,
        )
        run.params = {
            "latent_dim": 10,
            "num_conv": nc,
            "seed": seed,
            "epochs": 6,
            "train_size": 7000,
            "c_factor": 8,
        }
        return run

    runs = [ae(1, 0, 11.0), ae(2, 0, 20.0), ae(3, 0)]
    expected = eta.Costs(runs).expected("autoencode/d10-nc3-s0")
    # the power through 11 s and 20 s (k = 0.65), drawn toward the prior 0.7 as if 10 runs had shown
    # it: k = (10 x 0.7 + 2 x 0.65) / 12 = 0.69, so 76 s (81 s measured; 69.5 s with k = 0.65 alone)
    assert expected == pytest.approx(76.4, abs=0.5)
    one_size = eta.Costs([ae(1, 5, 11.0), ae(3, 5)]).expected("autoencode/d10-nc3-s5")
    assert one_size == pytest.approx(11.0 * 16.88**0.7, rel=0.01)  # one known cost: the prior's power
    for run in runs:
        del run.params  # a plan without parameters: the nearest sibling, as before
    assert eta.Costs(runs).expected("autoencode/d10-nc3-s0") < 21.0
    assert eta.cost_model("theory") is None  # a stage without a cost module
    # many finished runs that show a flatter power (as a launch-bound GPU's would): the fit takes over
    ratio = 2.50  # num_conv = 2's arithmetic over num_conv = 1's (num_conv = 3's: 16.88 times)
    flat = [ae(nc, s, 10.0 * (1.0 if nc == 1 else ratio**0.3)) for nc in (1, 2) for s in range(10, 70)]
    flat_nc3 = eta.Costs([*flat, ae(3, 99)]).expected("autoencode/d10-nc3-s99")
    assert flat_nc3 == pytest.approx(10.0 * 16.88**0.3, rel=0.1)  # k near 0.3; 0.7 would say 72 s


def test_the_semisup_run_is_costed_from_the_autoencoders_before_it_has_run(tmp_path):
    """Its one run has no sibling; its cost model counts in autoencode's unit (forward
    multiply-accumulates of training), so the autoencoders' seconds scale to it: on the default
    profile 12.7 times a num_conv = 2 model's arithmetic (154 s measured where such a model took
    26 s), not the mean of the runs known."""
    from aestudy.runner.plan import plan

    runs = plan(load_study(Path(__file__).resolve().parents[2] / "params" / "default.yaml"))
    by_name = {r.name: r for r in runs}
    semisup = next(r for r in runs if r.stage == "semisup")
    assert eta.cost_unit("semisup") == eta.cost_unit("autoencode") is not None
    assert eta.cost_unit("transfer") is None
    known = {"autoencode/d10-nc2-s0": 26.0, "autoencode/d10-nc1-s0": 13.0, "reference/all": 14.0}
    costs = eta.Costs(runs, declared={}, recorded=known)
    expected = costs.expected(semisup.name)
    assert 100 < expected < 260, (
        expected
    )  # 12.7 x the arithmetic at k about 0.7; the mean known would say 18 s
    # theory has no cost model: the known run of a stage without one (reference), not the autoencoders
    assert by_name["theory/all"].stage == "theory" and costs.expected("theory/all") == 14.0


def test_a_power_seen_over_one_model_size_is_not_carried_to_another_stage():
    """The smoke profile's autoencoders (d = 5 and 10, num_conv = 1: costs within 1 %) take 2 s,
    mostly their kernel's start; its semisup run, 164 times their arithmetic, takes 3 s. Scaled
    from them it was expected to take 71 s (the display showed ETA 4:05 for a 25-s sweep). A stage's
    cost is carried to another stage's run only from known runs whose costs span a factor of 2:
    where they do not, the runs say nothing of how seconds grow with cost."""
    from aestudy.runner.plan import plan

    runs = plan(load_study(Path(__file__).resolve().parents[2] / "params" / "smoke.yaml"))
    aes = [r.name for r in runs if r.stage == "autoencode"]
    known = dict.fromkeys(aes[:2], 2.0)
    costs = eta.Costs(runs, declared={}, recorded=known)
    assert costs._relative_cost("semisup/all") > 100 * costs._relative_cost(aes[0])
    assert costs.expected("semisup/all") == pytest.approx(2.0)  # the mean of the runs known
    default = plan(load_study(Path(__file__).resolve().parents[2] / "params" / "default.yaml"))
    spread = {"autoencode/d10-nc2-s0": 26.0, "autoencode/d10-nc1-s0": 13.0}  # 2.5 times the cost
    assert eta.Costs(default, declared={}, recorded=spread).expected("semisup/all") > 100


def test_a_stage_without_a_cost_model_is_costed_as_the_others_without_one(tmp_path):
    """Before any transfer run has finished, its cost is the mean of the known runs of stages with
    no cost model (protocol, reference: 30 s here), not of every known run, which the long
    num_conv = 3 autoencoders and semisup's run pull up (79 s here); the default's transfer runs
    take 29-31 s. Where no such run is known yet, every known run counts, as before."""
    runs = [
        PlannedRun("autoencode", "d5-nc3-s0", {"num_conv": 3}, tmp_path, 80.0),
        PlannedRun("semisup", "all", {}, tmp_path, 148.0),
        PlannedRun("protocol", "finetune", {}, tmp_path, 40.0),
        PlannedRun("reference", "all", {}, tmp_path, 20.0),
        PlannedRun("transfer", "d5-nc2-s0", {}, tmp_path),
    ]
    assert eta.cost_model("transfer") is None and eta.cost_model("semisup") is not None
    costs = eta.Costs(runs, declared={})
    assert costs.expected("transfer/d5-nc2-s0") == pytest.approx(30.0)
    early = eta.Costs([runs[0], runs[1], runs[4]], declared={})
    assert early.expected("transfer/d5-nc2-s0") == pytest.approx(114.0)  # nothing alike known: all


def test_weighted_eta_is_exact_when_the_expected_costs_are_right_and_counting_is_not(tmp_path):
    """One worker executes a cheap run (10 s) then an expensive one (90 s) whose cost its record
    knows: counting runs says 10 s are left after the first, the weighted ETA says 90."""
    runs = [
        PlannedRun("autoencode", "d5-nc1", {"num_conv": 1}, tmp_path, 10.0),
        PlannedRun("autoencode", "d5-nc3", {"num_conv": 3}, tmp_path, 90.0),
    ]
    costs = eta.Costs(runs)
    assert costs.eta(0.0, set(), {}) is None  # no pace yet
    assert costs.eta(5.0, set(), {"autoencode/d5-nc1": 0.5}) == pytest.approx(95.0)
    costs.finished("autoencode/d5-nc1", "ok", 10.0)
    assert costs.eta(10.0, {"autoencode/d5-nc1"}, {}) == pytest.approx(90.0)  # the true remaining time
    assert progress.eta(10.0, 1.0, 1.0) == pytest.approx(10.0)  # counting runs as equal
    assert costs.eta(55.0, {"autoencode/d5-nc1"}, {"autoencode/d5-nc3": 0.5}) == pytest.approx(45.0)
    # two workers at once: the pace (wall seconds per second of work) halves the work left (45 s),
    # but the 90 s run still has 85 s to go on its own worker
    both = eta.Costs(runs)
    assert both.eta(5.0, set(), {"autoencode/d5-nc1": 0.5, "autoencode/d5-nc3": 5 / 90}) == pytest.approx(
        85.0
    )


def test_a_run_in_flight_is_costed_by_its_own_pace_once_a_tenth_of_its_loop_is_watched(tmp_path):
    """The first minute of a sweep: its first long run is in flight and nothing like it has finished.
    Its loop's own pace (the kernel's start left out) says what it will cost, and its siblings
    follow from that, where the mean of the short runs done would have made the pace look slow."""
    assert eta.projected_seconds(running=30.0, watched=20.0, fraction=0.5, moved_from=0.1) == pytest.approx(
        55.0
    )
    assert (
        eta.projected_seconds(running=30.0, watched=20.0, fraction=0.15, moved_from=0.1) is None
    )  # too little seen
    runs = [
        PlannedRun("reference", "all", {}, tmp_path, None),
        PlannedRun("autoencode", "d5-nc3-s0", {"seed": 0}, tmp_path, None),
        PlannedRun("autoencode", "d5-nc3-s1", {"seed": 1}, tmp_path, None),
    ]
    costs = eta.Costs(runs, declared={})
    costs.finished("reference/all", "ok", 10.0)
    flight = {"autoencode/d5-nc3-s0": 0.5}
    # one worker, 10 s done, then 50 s into a 100 s run: 50 s of it and the 100 s sibling are left.
    # Without its pace each autoencoder is costed as the reference (10 s): the ETA says 60 s
    assert costs.eta(60.0, {"reference/all"}, flight) == pytest.approx(60.0)
    assert costs.expected("autoencode/d5-nc3-s1") == pytest.approx(10.0)
    seen = costs.eta(60.0, {"reference/all"}, flight, {"autoencode/d5-nc3-s0": 100.0})
    assert costs.expected("autoencode/d5-nc3-s0") == 100.0 and costs.expected("autoencode/d5-nc3-s1") == 100.0
    assert seen == pytest.approx(150.0)  # the time really left
    # once it finished, its own seconds count, whatever its projection said
    costs.finished("autoencode/d5-nc3-s0", "ok", 90.0)
    costs.eta(100.0, {"reference/all", "autoencode/d5-nc3-s0"}, {}, {"autoencode/d5-nc3-s0": 100.0})
    assert costs.expected("autoencode/d5-nc3-s0") == 90.0 and costs.expected("autoencode/d5-nc3-s1") == 90.0


def test_the_display_costs_a_run_in_flight_by_the_pace_its_loop_reports(tmp_path, monkeypatch):
    """The display times each run's loop from the first progress it reports (the kernel's start
    left out) and hands the ETA that projection."""
    monkeypatch.setattr(progress, "POLL_S", 3600.0)
    clock = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    runs = [PlannedRun("autoencode", f"d5-nc3-s{s}", {"seed": s}, tmp_path / "runs") for s in (0, 1)]
    folder = tmp_path / progress.PROGRESS_DIR
    with progress.Display("prof", runs, folder, stream=io.StringIO()) as display:
        in_flight(folder, "autoencode", "d5-nc3-s0", cells=(2, 8, "cell"), inner=(0, 6, "epoch"))
        display.poll()  # seen, its kernel starting: no pace yet
        clock[0] += 5.0
        in_flight(folder, "autoencode", "d5-nc3-s0", cells=(5, 8, "cell"), inner=(0.06, 6, "epoch"))
        display.poll()  # its loop moved: 1 % of it, 5 s after it was seen
        clock[0] += 20.0
        in_flight(folder, "autoencode", "d5-nc3-s0", cells=(5, 8, "cell"), inner=(1.26, 6, "epoch"))
        display.poll()  # 20 % more of its loop (1 % to 21 %) in 20 s: 100 s a loop, 79 s of it left
        assert display.costs.expected("autoencode/d5-nc3-s0") == pytest.approx(25.0 + 79.0)
        assert display.costs.expected("autoencode/d5-nc3-s1") == pytest.approx(104.0)  # its sibling
        # a run whose next loop starts over (a search, then the final training) is watched afresh
        clock[0] += 5.0
        in_flight(folder, "autoencode", "d5-nc3-s0", cells=(6, 8, "cell"), inner=(0.06, 6, "epoch"))
        display.poll()
        assert display.costs.projected == {}  # nothing of the new loop seen yet: no pace
        clock[0] += 10.0
        in_flight(folder, "autoencode", "d5-nc3-s0", cells=(6, 8, "cell"), inner=(3.06, 6, "epoch"))
        display.poll()  # half of it (1 % to 51 %) in 10 s: 9.8 s more
        assert display.costs.expected("autoencode/d5-nc3-s0") == pytest.approx(40.0 + 9.8)


def test_the_display_shows_the_weighted_eta_and_logs_it(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "POLL_S", 3600.0)
    clock = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    log = tmp_path / "eta.log"
    monkeypatch.setenv(progress.ETA_LOG_ENV, str(log))
    runs = [
        PlannedRun("autoencode", "d5-nc1", {"num_conv": 1}, tmp_path / "runs", 10.0),
        PlannedRun("autoencode", "d5-nc3", {"num_conv": 3}, tmp_path / "runs", 90.0),
    ]
    out, folder = io.StringIO(), tmp_path / progress.PROGRESS_DIR
    with progress.Display("prof", runs, folder, stream=out) as display:
        clock[0] += 10.0
        display.finished(result("autoencode", "d5-nc1", seconds=10.0))
        clock[0] += 90.0
        display.finished(result("autoencode", "d5-nc3", seconds=90.0))
    lines = out.getvalue().splitlines()
    assert lines[0] == "prof: 2 runs"
    assert "autoencode/d5-nc1  10.0 s   (1/2 runs, ETA 1:30)" in lines[1]
    assert "(2/2 runs, ETA 0:00)" in lines[2] and lines[3].startswith("prof: 2/2 runs in 1:40")
    assert log.read_text().split("\n")[-3:] == ["100.0 0.0", "100.0 end", ""]
    assert log.read_text().split("\n")[0] == "10.0 90.0"


def test_the_eta_benchmark_reads_the_log_the_display_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "eta_accuracy", Path(__file__).parents[2] / "benchmarks" / "eta_accuracy.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    log = tmp_path / "eta.log"
    log.write_text("0.0 ?\n10.0 120.0\n30.0 50.0\n55.0 40.0\n100.0 end\n")
    samples, wall = bench.read_log(log)
    assert wall == 100.0 and samples[0] == (0.0, None)
    at25, at50, _ = bench.accuracy(samples, wall)
    assert (at25["at"], at25["eta"], at25["true"]) == (10.0, 120.0, 90.0) and at25["error"] == pytest.approx(
        1 / 3
    )
    assert (at50["at"], at50["eta"], at50["true"]) == (30.0, 50.0, 70.0)


def test_the_eta_is_never_shorter_than_the_longest_chain_of_runs_left(tmp_path):
    """Two workers; a 100 s run waits for a 10 s one, beside eight 10 s runs: half the work
    left at twice the pace would say 55 s, but the long run alone will take 100 s after its input."""
    first = PlannedRun("autoencode", "a", {"i": 0}, tmp_path, 10.0)
    long = PlannedRun("semisup", "all", {}, tmp_path, 100.0)
    long.upstream = [first.name]
    others = [PlannedRun("correlate", f"c{i}", {"i": i}, tmp_path, 10.0) for i in range(8)]
    costs = eta.Costs([first, long, *others])
    assert costs.longest_chain({n: costs.expected(n) for n in costs.runs}, set(), {}) == 110.0
    assert costs.eta(5.0, set(), {first.name: 0.5, others[0].name: 0.5}) == pytest.approx(105.0)
    costs.finished(first.name, "ok", 10.0)
    done = {first.name, *(o.name for o in others[:4])}
    assert costs.eta(30.0, done, {long.name: 0.2}) == pytest.approx(80.0)  # the chain: 80 s of the long run


@pytest.mark.parametrize("live", [False, True], ids=["plain", "rich"])
def test_a_runs_start_line_says_why_it_executes(tmp_path, monkeypatch, live):
    """After one edit a user sees which runs execute and why, on the console as in `status`:
    execute_job writes the reason (`say_why`) into the run's progress folder before its first cell."""
    if live:
        pytest.importorskip("rich")
    monkeypatch.setattr(progress, "POLL_S", 3600.0)
    out, folder = io.StringIO(), tmp_path / progress.PROGRESS_DIR
    with progress.Display("prof", 2, folder, stream=out, live=live) as display:
        in_flight(folder, "transfer", "d10-nc1-s0")
        monkeypatch.setenv(progress_file.ENV, str(folder / "transfer" / "d10-nc1-s0" / progress.KERNEL_FILE))
        progress.say_why("stale: parameter h1: [32] -> [16]")
        in_flight(folder, "transfer", "d10-nc1-s0", cells=(0, 4, "cell"))
        in_flight(folder, "theory", "all", cells=(0, 4, "cell"))  # no reason written: the line as before
        display.poll()
    text = out.getvalue()
    assert "start   transfer/d10-nc1-s0  (stale: parameter h1: [32] -> [16])" in text
    assert "theory/all  (" not in text
    monkeypatch.delenv(progress_file.ENV)
    progress.say_why("never run")  # outside the runner: nothing written, nothing raised


def test_runs_found_up_to_date_before_the_sweep_are_said_and_cost_nothing_in_the_eta(tmp_path, monkeypatch):
    """After one edit most runs are cached, but the executors reach them only as the graph does:
    the ETA counted each at its recorded cost until then ('ETA 1:05' for a 10-s rerun)."""
    monkeypatch.setattr(progress, "POLL_S", 3600.0)
    runs = [
        PlannedRun("autoencode", "d5-nc1", {"num_conv": 1}, tmp_path, 60.0),
        PlannedRun("transfer", "d5-nc1", {"num_conv": 1}, tmp_path, 10.0),
    ]
    out = io.StringIO()
    with progress.Display(
        "prof", runs, tmp_path / progress.PROGRESS_DIR, stream=out, up_to_date={"autoencode/d5-nc1"}
    ) as display:
        assert (
            display.costs.expected("autoencode/d5-nc1") == 0.0
            and display.costs.expected("transfer/d5-nc1") == 10.0
        )
    assert out.getvalue().splitlines()[0] == "prof: 2 runs, 1 of them up to date"


def test_runs_found_up_to_date_count_as_done_from_the_first_line_on(tmp_path, monkeypatch):
    """Three of four runs up to date: the one executed closes at 4/4, not at 1/4 with the count
    jumping as the executors confirm the cached runs; a cached confirmation adds nothing."""
    monkeypatch.setattr(progress, "POLL_S", 3600.0)
    runs = [PlannedRun("autoencode", f"d{d}-nc1", {"num_conv": 1}, tmp_path, 10.0) for d in (5, 10, 15, 20)]
    cached = {f"autoencode/d{d}-nc1" for d in (5, 10, 15)}
    out = io.StringIO()
    with progress.Display("prof", runs, tmp_path / progress.PROGRESS_DIR, stream=out, up_to_date=cached) as d:
        d.finished({"stage": "autoencode", "run_id": "d5-nc1", "status": "cached", "seconds": 0.0})
        assert d._overall_words(0.0).startswith("3/4 runs")
        d.finished({"stage": "autoencode", "run_id": "d20-nc1", "status": "ok", "seconds": 10.0})
    lines = out.getvalue().splitlines()
    assert lines[0] == "prof: 4 runs, 3 of them up to date"
    assert "(4/4 runs, ETA 0:00)" in lines[1] and lines[-1].startswith("prof: 4/4 runs in"), lines


def test_a_start_line_reason_counts_many_upstream_runs_or_modules_and_is_cut_with_an_ellipsis():
    upstream = "; ".join(f"upstream autoencode/d{d}-nc1-s0 changed" for d in (5, 10, 15, 20))
    assert (
        progress.brief(f"stale: notebook changed; {upstream}")
        == "stale: notebook changed; 4 upstream runs changed"
    )
    assert (
        progress.brief("stale: module a changed; module b changed")
        == "stale: module a changed; module b changed"
    )
    long = progress.brief("incomplete: " + "x" * 500)
    assert len(long) == progress.WHY_CHARS and long.endswith("…")


def test_the_eta_replay_benchmark_replays_recorded_spans_through_the_eta(tmp_path):
    """benchmarks/eta_replay.py: the ETA a sweep would have shown, from its runs' start and end; a
    long run after a short one is costed as the short one until its own pace is seen."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "eta_replay", Path(__file__).parents[2] / "benchmarks" / "eta_replay.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    runs = [PlannedRun("autoencode", f"d5-nc3-s{s}", {"seed": s}, tmp_path) for s in (0, 1)]
    span = {runs[0].name: (0.0, 10.0), runs[1].name: (10.0, 110.0)}  # one worker: 10 s, then 100 s
    blind = dict(bench.replay(runs, span, project=False))
    seen = dict(bench.replay(runs, span, project=True))
    # at 60 s, 50 s are really left: costed as the short run, the long one looks nearly done (22 s);
    # by its pace, 55 s (the kernel's 5 s start counts as time, not as work done)
    assert blind[60.0] == pytest.approx(21.4, abs=0.1) and seen[60.0] == pytest.approx(55.0, abs=0.1)
    ((at, error),) = bench.errors(list(seen.items()), 110.0, fractions=(0.5,))
    assert at == 0.5 and 0 < error < 0.12  # the last ETA shown by half the wall time, against the time left
