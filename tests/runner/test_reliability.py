"""Bad input, crashes and interruptions lose nothing and explain themselves."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from aestudy import cli, config
from aestudy.runner import records, sweep
from aestudy.runner.execute import execute_run
from aestudy.runner.paramfile import load_study
from aestudy.runner.plan import Run, run_id_for, safe_id
from aestudy.schema import ParamsError
from aestudy.science import artifacts
from aestudy.study import STAGES

REPO = Path(__file__).resolve().parents[2]

TINY = """
profile: tiny
data: {dataset: mnist, train_size: 200, test_size: 100}
stages:
  autoencode:
    grid: {latent_dim: [3, 4, 5], num_conv: [1]}
    params: {c_factor: 2, fc_hidden: 16, epochs: 1, batch_size: 50}
"""


@pytest.fixture
def mnist_env():
    """Real MNIST from DATA_DIR (CI points it at the shared offline copy)."""
    d = os.environ.get("DATA_DIR")
    if not d or not (Path(d).expanduser() / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        pytest.skip("needs MNIST: set DATA_DIR to a folder holding MNIST/raw")
    return Path(d)


def write(tmp_path: Path, text: str, name="p.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def run_cli(argv, capsys) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    return code, capsys.readouterr().err


# ------------------------------------------------------------------ parameter validation

BASE = {
    "profile": "bad",
    "data": {"dataset": "mnist"},
    "stages": {
        "autoencode": {
            "grid": {"latent_dim": [5, 10], "num_conv": [1, 2]},
            "params": {"c_factor": 8, "kernel_size": 3, "epochs": 1, "optimizer": "adam"},
        },
        "transfer": {
            "uses": {"autoencode": {"num_conv": 1}},
            "for_each": "autoencode",
            "params": {"modes": ["frozen"], "n_labels": 100},
        },
    },
}


def mutate(path: str, value):
    import copy

    cfg = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    node[last] = value
    return cfg


@pytest.mark.parametrize(
    "path,value,expect_key,expect_text",
    [
        (
            "stages.autoencode.params.latnt_dim",
            3,
            "stages.autoencode.params.latnt_dim",
            "did you mean 'latent_dim'",
        ),
        ("stages.autoencode.params.epochs", "three", "stages.autoencode.params.epochs", "integer"),
        (
            "stages.autoencode.grid.latent_dim",
            [5, 0],
            "stages.autoencode.grid.latent_dim",
            "greater than or equal to 1",
        ),
        ("stages.autoencode.grid.num_conv", [1, 9], "num_conv=9", "at most 5"),
        (  # its message once built the sizes of every layer asked for: 10**12 of them, for minutes
            "stages.autoencode.grid.num_conv",
            [1, 10**12],
            "num_conv=1000000000000",
            "at most 5",
        ),
        (  # pydantic skips a field's validator on its default: the 3 default folds passed, then raised a traceback
            "stages.protocol",
            {"uses": {"autoencode": {"latent_dim": 5, "num_conv": 1}}, "params": {"n_labels": 20}},
            "stages.protocol.params.folds",
            "(got 3, its default)",
        ),
        (  # true == 1 in Python: `num_conv: true` selected the num_conv 1 encoder
            "stages.transfer.uses",
            {"autoencode": {"num_conv": True}},
            "stages.transfer.uses.autoencode.num_conv",
            "True matches no autoencode run",
        ),
        (  # a combination no run has blamed its first key, though latent_dim 5 is planned
            "stages.transfer.uses",
            {"autoencode": {"latent_dim": 5, "num_conv": 3}},
            "stages.transfer.uses.autoencode.num_conv",
            "3 matches no autoencode run",
        ),
        ("stages.autoencode.params.kernel_size", 4, "stages.autoencode", "odd"),
        (
            "stages.autoencode.params.c_factor",
            0,
            "stages.autoencode.params.c_factor",
            "greater than or equal to 1",
        ),
        (
            "stages.autoencode.params.epochs",
            0,
            "stages.autoencode.params.epochs",
            "greater than or equal to 1",
        ),
        (
            "stages.autoencode.params.optimizer",
            "adamw",
            "stages.autoencode.params.optimizer",
            "'adam' or 'sgd'",
        ),
        (
            "stages.transfer.params.n_labels",
            5,
            "stages.transfer.params.n_labels",
            "greater than or equal to 10",
        ),
        (
            "stages.transfer.params.modes",
            ["frozn"],
            "stages.transfer.params.modes",
            "'frozen', 'finetune', 'scratch' or 'augmented'",
        ),
        ("data.dataset", "cifar", "data.dataset", "'mnist' or 'fashion_mnist'"),
        ("data.datset", "mnist", "data.datset", "did you mean 'dataset'"),
        ("stages.autoencoder", {}, "stages.autoencoder", "did you mean 'autoencode'"),
        (
            "stages.transfer.uses",
            {"autoencode": {"num_conv": 3}},
            "stages.transfer.uses.autoencode.num_conv",
            "matches no autoencode run",
        ),
        (  # an empty list selected nothing, and the notebook trained stand-in models
            "stages.transfer.uses",
            {"autoencode": {"num_conv": []}},
            "stages.transfer.uses.autoencode",
            "selects no autoencode run",
        ),
        (  # a grid value that is itself a list: an empty one planned a protocol run of no mode
            "stages.transfer.grid",
            {"modes": [[], ["frozen"]]},
            "stages.transfer.grid.modes",
            "an empty list",
        ),
        (  # an empty list passed the schema, then failed inside the run (ZeroDivisionError)
            "stages.transfer.params.modes",
            [],
            "stages.transfer.params.modes",
            "an empty list",
        ),
        (  # label draw 0 would have been counted twice
            "stages.transfer.params.label_seeds",
            [0, 1, 0],
            "stages.transfer.params.label_seeds",
            "0 is given twice",
        ),
        (  # its out_dir entries overwrote another complete run
            "stages.autoencode.params.cell_runs",
            [{"seed": 1, "out_dir": "/tmp/elsewhere"}],
            "stages.autoencode.params.cell_runs",
            "filled by the runner",
        ),
        (  # so did a stage that does not name what it receives
            "stages.correlate",
            {},
            "stages.correlate.uses",
            "names no autoencode runs, though the file plans them",
        ),
    ],
)
def test_invalid_parameter_file_exits_2_with_one_line_naming_file_and_key(
    tmp_path, capsys, monkeypatch, path, value, expect_key, expect_text
):
    import yaml

    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(mutate(path, value)))
    code, err = run_cli(["run", f], capsys)
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert str(f) in lines[0] and expect_key in lines[0] and expect_text in lines[0], lines[0]
    assert not (tmp_path / "reports" / "bad" / "runs").exists()  # no run started


def test_missing_and_malformed_parameter_files(tmp_path, capsys):
    code, err = run_cli(["run", tmp_path / "nope.yaml"], capsys)
    assert code == 2 and "nope.yaml: parameter file not found" in err
    (tmp_path / "folder.yaml").mkdir()
    code, err = run_cli(["run", tmp_path / "folder.yaml"], capsys)
    assert code == 2 and "folder.yaml: a folder, not a parameter file" in err
    bad = write(tmp_path, "profile: x\nstages: {autoencode: {grid: [1, 2}\n", "broken.yaml")
    code, err = run_cli(["run", bad], capsys)
    assert code == 2 and "broken.yaml: malformed YAML at line" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "text, said",
    [
        ("1: x\n", "1: a top-level key must be a name"),
        ("~: x\n", "None: a top-level key must be a name"),
        ("stages: 5\n", "stages: must be a mapping of stage names"),
        ("stages: [{a: 1}]\n", "stages: must be a mapping of stage names"),
        ("stages: autoencode\n", "stages: must be a mapping of stage names"),
    ],
)
def test_a_file_of_the_wrong_shape_is_one_line_not_a_traceback(text, said, tmp_path, capsys):
    code, err = run_cli(["status", write(tmp_path, "profile: x\n" + text)], capsys)
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1, err


def test_a_file_name_that_is_no_folder_name_asks_for_a_profile(tmp_path, capsys):
    code, err = run_cli(["status", write(tmp_path, "stages: {theory: {}}\n", "my file.yaml")], capsys)
    assert code == 2 and "profile: none given, and the file's name 'my file' is not a folder name" in err, err
    code, err = run_cli(
        ["status", write(tmp_path, f"profile: {'a' * 300}\nstages: {{theory: {{}}}}\n")], capsys
    )
    assert code == 2 and "profile: String should have at most 100 characters" in err, (
        err
    )  # was Errno 36, exit 1


def test_cli_exit_status_is_2_in_a_real_process(tmp_path):
    bad = write(tmp_path, "profile: x\nstages: {autoencode: {params: {latent_dim: -1}}}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "lib", "run", str(bad)], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "stages.autoencode.params.latent_dim" in proc.stderr


def test_missing_dataset_offline_names_directory_and_how_to_supply(tmp_path, capsys, monkeypatch):
    import torchvision.datasets as tvd

    def offline(self):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tvd.MNIST, "download", offline)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    code, err = run_cli(["run", write(tmp_path, TINY)], capsys)
    assert code == 2
    assert str(tmp_path / "empty" / "MNIST" / "raw") in err and "DATA_DIR" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("damage", ["truncated", "longer", "not idx"])
def test_a_damaged_dataset_file_is_one_line_naming_it_before_any_run(
    damage, tmp_path, capsys, monkeypatch, fake_mnist
):
    """Each data-reading run would fail on it, each replacing a complete run by a failed one."""
    path = fake_mnist / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    raw = path.read_bytes()
    path.write_bytes({"truncated": raw[:-100], "longer": raw + b"x", "not idx": b"<html>" + raw}[damage])
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    said = {"truncated": ": truncated;", "longer": ": longer than declared;", "not idx": "not an idx file"}
    for command in ("run", "status"):
        code, err = run_cli([command, write(tmp_path, TINY)], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert str(path) in err and said[damage] in err, err
    assert not (tmp_path / "reports" / "tiny" / "runs").exists()


def test_render_of_runs_on_disk_goes_on_over_a_damaged_dataset_file_with_a_note(tmp_path, monkeypatch):
    """The report reads no data: as with a missing dataset, whether the runs are up to date is
    unknown, said once, with the damaged file named."""
    from aestudy.datafiles import DataDamaged
    from aestudy.runner.paramfile import load_study
    from aestudy.runner.sweep import status

    root = tmp_path / "data"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03" + (10).to_bytes(4, "big") * 3 + b"x")
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\0\0\x08\x01" + (0).to_bytes(4, "big"))
    monkeypatch.setenv("DATA_DIR", str(root))
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    study = load_study(write(tmp_path, TINY))
    with pytest.raises(DataDamaged, match="truncated"):
        status(study)
    rows = status(study, damaged_data_unknown=True)
    assert {r["state"] for r in rows} == {"unknown"}
    assert all("t10k-images-idx3-ubyte: 17 bytes" in r["reason"] and "truncated" in r["reason"] for r in rows)


# ------------------------------------------------------------------ crashes and resumption


@pytest.fixture
def notebooks_copy(tmp_path, monkeypatch):
    """A private copy of the notebooks, so a test can inject failures into one of them."""
    dst = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", dst)
    monkeypatch.setattr(config, "NOTEBOOKS", dst)
    return dst


def add_cell(nb_path: Path, source: str, index: int | None = None) -> None:
    """Insert a code cell at `index` (default: right after the parameters cell, so that it runs
    after papermill's injected parameters)."""
    nb = nbformat.read(nb_path, as_version=4)
    if index is None:
        index = 1 + next(
            i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])
        )
    nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, nb_path)


def downstream_notebook(path: Path) -> None:
    """A minimal `transfer` stand-in: reads its checkpoint, writes metrics."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("checkpoints = []\nout_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "from aestudy.science import artifacts\n"
            "m = artifacts.load_autoencoder(checkpoints[0])\n"
            "artifacts.write_json(artifacts.output_dir(out_dir, 'transfer') / 'metrics.json', "
            "{'d': m.cfg.latent_dim})"
        ),
    ]
    nbformat.write(nb, path)


@pytest.mark.slow
def test_a_failing_run_is_recorded_others_finish_dependents_skip(
    tmp_path, monkeypatch, notebooks_copy, mnist_env
):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    add_cell(
        notebooks_copy / "autoencode.ipynb",
        "if latent_dim == 4:\n    raise RuntimeError('injected failure for the test')",
    )
    downstream_notebook(notebooks_copy / "transfer.ipynb")
    # the transfer stand-in writes one key, not transfer's metrics: its contract is lifted
    monkeypatch.setitem(STAGES, "transfer", dataclasses.replace(STAGES["transfer"], metrics=None))
    study = load_study(
        write(
            tmp_path,
            TINY
            + """
  transfer:
    uses: {autoencode: {num_conv: 1, latent_dim: [3, 4]}}
    for_each: autoencode
""",
        )
    )
    results = {f"{r['stage']}/{r['run_id']}": r for r in sweep.run_study(study, progress=False)}
    assert results["autoencode/d4-nc1"]["status"] == "failed"
    assert "injected failure for the test" in results["autoencode/d4-nc1"]["error"]
    assert results["autoencode/d3-nc1"]["status"] == "ok" and results["autoencode/d5-nc1"]["status"] == "ok"
    assert results["transfer/d3-nc1"]["status"] == "ok"
    assert results["transfer/d4-nc1"]["status"] == "skipped"
    assert "autoencode/d4-nc1 failed" in results["transfer/d4-nc1"]["error"]
    failed_dir = Path(results["autoencode/d4-nc1"]["dir"])
    assert (failed_dir / "autoencode.ipynb").exists()  # the partly executed notebook is kept
    record = json.loads((failed_dir / "failed.json").read_text())
    assert "RuntimeError" in record["error"] and "Traceback" in record["traceback"] or record["traceback"]
    table = (tmp_path / "reports" / "tiny" / "tables" / "autoencode.csv").read_text()
    assert "d4-nc1,failed" in table
    summary = sweep.summary(list(results.values()))
    assert "failed: autoencode/d4-nc1" in summary and "skipped: transfer/d4-nc1" in summary
    # a second run reuses the good runs and retries only the failed one and its dependent
    again = {f"{r['stage']}/{r['run_id']}": r["status"] for r in sweep.run_study(study, progress=False)}
    assert again["autoencode/d3-nc1"] == "cached" and again["transfer/d3-nc1"] == "cached"
    assert again["autoencode/d4-nc1"] == "failed"


@pytest.mark.slow
def test_cli_exits_nonzero_with_summary_when_a_run_fails(
    tmp_path, monkeypatch, capsys, notebooks_copy, mnist_env
):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    add_cell(notebooks_copy / "autoencode.ipynb", "assert latent_dim != 5, 'd=5 is broken'")
    code, err = run_cli(["run", write(tmp_path, TINY), "--no-render"], capsys)
    assert code == 1
    assert "2 ok, 1 failed" in err and "failed: autoencode/d5-nc1: AssertionError: d=5 is broken" in err


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_reuses_completed_runs(tmp_path, mnist_env):
    env = {**os.environ, "REPORTS_DIR": str(tmp_path / "reports")}
    params = write(
        tmp_path, TINY.replace("train_size: 200", "train_size: 1500").replace("epochs: 1", "epochs: 2")
    )
    runs = tmp_path / "reports" / "tiny" / "runs" / "autoencode"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lib", "run", str(params), "--no-render"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    # wait until the first run is complete and the second one has started writing
    while time.time() < deadline:
        if (runs / "d3-nc1" / "complete.json").exists() and (runs / "d4-nc1" / "autoencode.ipynb").exists():
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("sweep did not reach its second run in time")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (runs / "d4-nc1" / "complete.json").exists()
    first_record = (runs / "d3-nc1" / "complete.json").read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "lib", "run", str(params), "--no-render"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = done.stderr.strip().splitlines()[-1]  # the counts in the order the runs finished
    assert "3/3 runs" in summary and "2 ok" in summary and "1 cached" in summary
    assert (runs / "d3-nc1" / "complete.json").read_bytes() == first_record  # reused, not redone
    for rid in ("d4-nc1", "d5-nc1"):
        record, reason = records.verify_completion(runs / rid)
        assert record is not None, reason
    assert not list(runs.rglob("*.tmp"))


@pytest.mark.slow
def test_corrupt_checkpoint_is_detected_and_redone_or_named_with_no_retrain(
    tmp_path, monkeypatch, capsys, mnist_env
):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    params = write(tmp_path, TINY.replace("[3, 4, 5]", "[3, 4]"))
    assert run_cli(["run", params, "--no-render"], capsys)[0] == 0
    ckpt = tmp_path / "reports" / "tiny" / "runs" / "autoencode" / "d4-nc1" / "model.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])  # truncated
    code, err = run_cli(["run", params, "--no-render", "--no-retrain"], capsys)
    assert code == 1 and f"{config.relative(ckpt)}: checksum mismatch" in err
    metrics = ckpt.parent / "metrics.json"
    code, err = run_cli(["run", params, "--no-render"], capsys)
    assert code == 0 and set(err.splitlines()[-1].split(" (")[-1].rstrip(")").split(", ")) == {
        "1 ok",
        "1 cached",
    }
    assert artifacts.load_autoencoder(ckpt).cfg.latent_dim == 4
    metrics.write_text(metrics.read_text().replace("0.", "9.", 1))  # tampered metrics
    code, err = run_cli(["run", params, "--no-render"], capsys)
    assert code == 0 and set(err.splitlines()[-1].split(" (")[-1].rstrip(")").split(", ")) == {
        "1 ok",
        "1 cached",
    }


@pytest.mark.slow
def test_same_parameters_and_seed_give_bit_identical_metrics(tmp_path, monkeypatch, mnist_env):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    study = load_study(write(tmp_path, TINY.replace("[3, 4, 5]", "[3]")))
    sweep.run_study(study, progress=False)
    metrics = tmp_path / "reports" / "tiny" / "runs" / "autoencode" / "d3-nc1" / "metrics.json"
    first = metrics.read_bytes()
    assert [r["status"] for r in sweep.run_study(study, force=True, progress=False)] == ["ok"]
    assert metrics.read_bytes() == first


def test_string_parameters_are_injected_as_data(tmp_path, monkeypatch):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("value = ''\nout_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell("import pathlib\npathlib.Path(out_dir, 'value.txt').write_text(value)"),
    ]
    nbformat.write(nb, nb_dir / "theory.ipynb")
    monkeypatch.setattr(config, "NOTEBOOKS", nb_dir)
    evil = 'x"; import os; os.system("touch PWNED") #\n\'\'\' """ \\n {out_dir}\n__import__("sys").exit(3)'
    run = Run(
        "theory",
        "all",
        {},
        {"value": evil, "out_dir": str(tmp_path / "out")},
        dir=str(tmp_path / "out"),
        notebook=str(nb_dir / "theory.ipynb"),
        inputs={"notebook": "n", "params": {}, "data": "", "upstream": {}},
    )
    result = execute_run(run)
    assert result["status"] == "ok", result["error"]
    assert (tmp_path / "out" / "value.txt").read_text() == evil
    assert not (REPO / "PWNED").exists() and not (tmp_path / "out" / "PWNED").exists()


def test_run_ids_and_profiles_cannot_escape_reports(tmp_path):
    assert "/" not in safe_id("../../etc/passwd") and not safe_id("..").startswith(".")
    assert run_id_for("autoencode", {"latent_dim": "../../x"}).count("/") == 0
    bad = write(tmp_path, "profile: ../../outside\nstages: {theory: {}}\n")
    with pytest.raises(ParamsError, match="profile"):
        load_study(bad)


# ------------------------------------------------------------------ bad bytes and one runner per profile


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00binary", "profile: x\n# caf\xe9\n".encode("latin-1")],
    ids=["binary", "latin-1"],
)
def test_a_file_that_is_not_utf8_gives_one_line_and_exit_2(tmp_path, capsys, content):
    bad = tmp_path / "params.yaml"
    bad.write_bytes(content)
    code, err = run_cli(["run", bad], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "not UTF-8" in lines[0], err


def test_a_second_runner_on_the_same_profile_exits_2_naming_the_first(tmp_path, capsys, monkeypatch):
    from aestudy.runner.lock import profile_lock

    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    params = write(tmp_path, "profile: locked\nstages: {theory: {}}\n")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, 'lib')\n"
            "from aestudy.runner.lock import profile_lock\nfrom pathlib import Path\n"
            f"with profile_lock(Path({str(tmp_path / 'reports' / 'locked')!r}), 'python -m lib run p.yaml'):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.perf_counter()
        for command in ("run", "render"):
            code, err = run_cli([command, params], capsys)
            assert code == 2 and len(err.strip().splitlines()) == 1, err
            assert f"in use by process {holder.pid} (`python -m lib run p.yaml`" in err
        assert time.perf_counter() - start < 10  # at once, no waiting
        # another profile runs side by side
        with profile_lock(tmp_path / "reports" / "other", "test"):
            pass
    finally:
        holder.kill()
        holder.wait()
    # the killed holder's lock is taken over
    with profile_lock(tmp_path / "reports" / "locked", "test"):
        assert json.loads((tmp_path / "reports" / "locked" / ".lock.json").read_text())["pid"] == os.getpid()
