"""No command deletes a complete run unless it is recomputing it.

A run that cannot execute because a run it uses did not complete (`--no-retrain` with a corrupt
checkpoint upstream, an upstream run that failed) is skipped and said so, and its folder keeps
every byte an earlier execution left there. The slow test executes cheap stand-in notebooks
(the runner's code is real: plan, keys, records, skip).
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from aestudy import cli, config
from aestudy.runner import records
from aestudy.runner.execute import KEPT, skip_run
from aestudy.runner.paramfile import load_study
from aestudy.runner.plan import plan
from conftest import use_stand_in_notebooks

STUDY = """\
profile: keep
data: {dataset: mnist, train_size: 200, test_size: 50}
stages:
  autoencode:
    grid: {latent_dim: [3, 4]}
    params: {num_conv: 1, c_factor: 2, fc_hidden: 16, epochs: 1, batch_size: 64, device: cpu}
  correlate:
    uses: {autoencode: {}}
    params: {n_images: 100, image_seed: 0}
  transfer:
    uses: {autoencode: {}}
    for_each: autoencode
"""


def notebook(path: Path, params: str, code: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(textwrap.dedent(code))]
    nbformat.write(nb, path)


def stand_ins(nb_dir: Path) -> None:
    """autoencode writes a `model.pt` of bytes; correlate and transfer record the digests of the
    checkpoints they are given (no torch import: each run takes a second)."""
    nb_dir.mkdir()
    notebook(
        nb_dir / "autoencode.ipynb",
        "latent_dim = 1\nout_dir = None",
        """\
        import json, pathlib
        out = pathlib.Path(out_dir)
        (out / "model.pt").write_bytes(f"weights of d={latent_dim}\\n".encode() * 500)
        (out / "metrics.json").write_text(json.dumps({"latent_dim": latent_dim}))
        """,
    )
    digests = """\
        import hashlib, json, pathlib
        digests = [hashlib.sha256(pathlib.Path(c).read_bytes()).hexdigest() for c in checkpoints]
        (pathlib.Path(out_dir) / "metrics.json").write_text(json.dumps({"inputs": digests}))
        """
    notebook(nb_dir / "correlate.ipynb", "checkpoints = []\nout_dir = None", digests)
    notebook(nb_dir / "transfer.ipynb", "checkpoints = []\nout_dir = None", digests)


def every_file(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by its path relative to it."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_no_retrain_with_a_corrupt_checkpoint_leaves_every_complete_run_byte_identical(
    tmp_path, tmp_reports, fake_mnist, one_thread_kernels, monkeypatch, capsys
):
    stand_ins(tmp_path / "notebooks")
    use_stand_in_notebooks(monkeypatch, tmp_path / "notebooks")
    params = tmp_path / "keep.yaml"
    params.write_text(STUDY)
    assert cli.main(["run", str(params), "--no-render"]) == 0
    capsys.readouterr()
    runs_dir = tmp_reports / "keep" / "runs"
    names = ["autoencode/d3", "autoencode/d4", "correlate/all", "transfer/d3", "transfer/d4"]
    assert sorted(str(p.relative_to(runs_dir)) for p in runs_dir.glob("*/*")) == sorted(names)
    ckpt = runs_dir / "autoencode" / "d4" / "model.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])  # truncated
    before = {n: every_file(runs_dir / n) for n in names}

    code = cli.main(["run", str(params), "--no-render", "--no-retrain"])
    err = capsys.readouterr().err

    assert code == 1  # some run could not be done: the documented exit status
    assert {n: every_file(runs_dir / n) for n in names} == before  # every file of every run, byte for byte
    assert not list(runs_dir.glob("*/*/" + records.FAILED))
    outcome = {
        f"{r['stage']}/{r['run_id']}": r
        for r in json.loads((tmp_reports / "keep" / "runs.json").read_text())["runs"]
    }
    assert {n: r["status"] for n, r in outcome.items()} == {
        "autoencode/d3": "cached",
        "autoencode/d4": "failed",
        "correlate/all": "skipped",
        "transfer/d3": "cached",
        "transfer/d4": "skipped",
    }
    assert "checksum mismatch" in outcome["autoencode/d4"]["error"]
    for name in ("correlate/all", "transfer/d4"):  # recorded, and said on the console, one line each
        assert outcome[name]["error"] == "upstream run autoencode/d4 failed" and outcome[name]["kept"] == KEPT
        lines = [ln for ln in err.splitlines() if f"skipped: {name}:" in ln]
        assert len(lines) == 1 and KEPT in lines[0], err
    assert "2 cached, 1 failed, 2 skipped" in err

    # the same command without --no-retrain recomputes the corrupt run and what uses it
    assert cli.main(["run", str(params), "--no-render"]) == 0
    for name in ("autoencode/d4", "correlate/all", "transfer/d4"):
        record, why = records.verify_completion(runs_dir / name)
        assert record is not None, why
    assert every_file(runs_dir / "autoencode" / "d3") == before["autoencode/d3"]


def test_a_skipped_run_keeps_an_earlier_execution_and_records_only_where_there_was_none(
    tmp_path, tmp_reports
):
    params = tmp_path / "keep.yaml"
    params.write_text(STUDY)
    runs = {r.name: r for r in plan(load_study(params))}
    kept, fresh, partial = (Path(runs[n].dir) for n in ("correlate/all", "transfer/d3", "transfer/d4"))
    for folder, files in (
        (kept, {records.COMPLETE: "{}", "metrics.json": "{}", "correlate.ipynb": "{}"}),
        (partial, {"transfer.ipynb": "{}", records.FAILED: '{"status": "failed"}'}),
    ):
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    before = every_file(kept)

    res = skip_run(runs["correlate/all"], "upstream run autoencode/d4 failed")
    assert res["status"] == "skipped" and res["kept"] == KEPT and every_file(kept) == before
    for run, folder in ((runs["transfer/d3"], fresh), (runs["transfer/d4"], partial)):
        res = skip_run(run, "upstream run autoencode/d3 failed")
        assert res["status"] == "skipped" and "kept" not in res
        assert json.loads((folder / records.FAILED).read_text()) == {
            "status": "skipped",
            "error": "upstream run autoencode/d3 failed",
        }
    assert (partial / "transfer.ipynb").exists()  # what a partial execution left is not removed either
    assert config.profile_dir("keep") == tmp_reports / "keep"


@pytest.mark.slow
def test_a_failed_execution_keeps_the_complete_run_it_was_to_replace_and_reverting_restores_it(
    tmp_path, tmp_reports, fake_mnist, one_thread_kernels, monkeypatch, capsys
):
    """A value only the run can find wrong: the run fails, but the complete run it was to
    update waits under .previous/; the file set back, the run is cached from it, not recomputed;
    a later success leaves nothing aside."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    notebook(
        nb_dir / "autoencode.ipynb",
        "latent_dim = 1\nepochs = 1\nout_dir = None",
        """\
        import json, pathlib, time
        if epochs == 7:
            raise RuntimeError("seven epochs diverge")
        out = pathlib.Path(out_dir)
        (out / "model.pt").write_bytes(f"weights of {epochs} epochs at {time.time()}\\n".encode())
        (out / "metrics.json").write_text(json.dumps({"latent_dim": latent_dim}))
        """,
    )
    use_stand_in_notebooks(monkeypatch, nb_dir)
    params = tmp_path / "keep.yaml"
    study = STUDY.split("  correlate:")[0].replace("grid: {latent_dim: [3, 4]}", "grid: {latent_dim: [3]}")
    run_dir = tmp_reports / "keep" / "runs" / "autoencode" / "d3"
    aside = tmp_reports / "keep" / ".previous" / "autoencode" / "d3"

    def run(epochs: int) -> dict:
        params.write_text(study.replace("epochs: 1", f"epochs: {epochs}"))
        code = cli.main(["run", str(params), "--no-render"])
        capsys.readouterr()
        outcome = json.loads((tmp_reports / "keep" / "runs.json").read_text())["runs"][0]
        return {"code": code, **outcome}

    assert run(1)["status"] == "ok"
    before = every_file(run_dir)
    failed = run(7)
    assert failed["code"] == 1 and failed["status"] == "failed" and "seven epochs diverge" in failed["error"]
    assert (run_dir / records.FAILED).exists() and every_file(aside) == before  # the complete run, aside
    assert failed["kept"].startswith(f"its last complete execution waits in {aside}")  # and said so
    params.write_text(study)  # set back: `status` says what `run` then does (it said "failed, executes it")
    assert cli.main(["status", str(params)]) == 0
    out, err = capsys.readouterr()
    assert out.split()[:2] == ["autoencode/d3", "kept"] and f"waits in {aside}" in out
    assert err.strip().endswith(
        "1 kept; `aestudy run " + str(params) + "` puts back the kept one, executing nothing"
    )
    import aestudy.report.render as rendering  # `render` shows the folder as it is, and says what `run` would do

    monkeypatch.setattr(rendering, "render", lambda study, **kw: None)
    assert cli.main(["render", str(params)]) == 0
    err = capsys.readouterr().err
    assert (
        "the last execution of 1 run (first: autoencode/d3) did not complete, and the report shows it so"
        in err
    )
    assert "puts back the complete execution kept aside, executing nothing" in err
    restored = run(1)
    assert restored["code"] == 0 and restored["status"] == "cached"  # not executed again
    assert every_file(run_dir) == before and not aside.exists()
    assert run(2)["status"] == "ok" and every_file(run_dir) != before and not aside.exists()
