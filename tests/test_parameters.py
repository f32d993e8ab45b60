"""One source of truth for parameters: every notebook's parameter cell agrees with the schema
(names and defaults), and a notebook run by plain papermill stops on a typo with the runner's
one-line message, before any work."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import papermill as pm
import pytest

from aestudy.schema import ParamsError
from aestudy.study import STAGES, check_parameters

REPO = Path(__file__).resolve().parents[1]


def _plain(value):
    return json.loads(json.dumps(value))  # tuples and lists compare equal


@pytest.mark.parametrize("stage", list(STAGES))
def test_parameter_cell_matches_the_schema(stage):
    inspected = pm.inspect_notebook(str(REPO / STAGES[stage].notebook))
    declared = STAGES[stage].notebook_fields()
    assert list(inspected) == list(declared), f"{stage}: names or order differ"
    for name, info in inspected.items():
        assert _plain(ast.literal_eval(info["default"])) == _plain(declared[name]), (stage, name)


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_notebook_checks_its_parameters_right_after_the_parameter_cell(stage):
    cells = json.loads((REPO / STAGES[stage].notebook).read_text())["cells"]
    i = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    assert f'check_parameters("{stage}", globals())' in "".join(cells[i + 1]["source"])


def _namespace(stage, injected: str, **values):
    ns = {**STAGES[stage].notebook_fields(), **values}
    ns["In"] = [
        "",
        "# Parameters (papermill injects the runner's values after this cell)\nx = 1\n",
        "# Parameters\n" + injected,
    ]
    return ns


def test_an_injected_typo_is_named_with_the_nearest_valid_name():
    with pytest.raises(ParamsError) as info:
        check_parameters("autoencode", _namespace("autoencode", "latnet_dim = 5\n", latnet_dim=5))
    msg = str(info.value)
    assert (
        msg.startswith(
            "notebooks/autoencode.ipynb: parameters.latnet_dim: unknown key; did you mean 'latent_dim'?"
        )
        and "\n" not in msg
    )
    assert info.value._render_traceback_() == [f"ParamsError: {msg}"]  # one line in the notebook too


def test_an_invalid_value_gives_the_runners_rule():
    with pytest.raises(ParamsError, match=r"parameters\.epochs: Input should be greater than or equal to 1"):
        check_parameters("autoencode", _namespace("autoencode", "epochs = 0\n", epochs=0))
    with pytest.raises(
        ParamsError,
        match=r"parameters\.modes\.0: Input should be 'frozen', 'finetune', 'scratch' or 'augmented'",
    ):
        check_parameters("transfer", _namespace("transfer", "modes = ['frozn']\n", modes=["frozn"]))
    with pytest.raises(ParamsError, match=r"parameters\.checkpoints: must be a list of file paths"):
        check_parameters(
            "transfer", _namespace("transfer", "checkpoints = 'model.pt'\n", checkpoints="model.pt")
        )


def test_one_mode_name_stands_for_a_protocol_search_of_that_mode_alone():
    assert check_parameters("protocol", _namespace("protocol", "modes = 'scratch'\n", modes="scratch"))[
        "modes"
    ] == ["scratch"]
    with pytest.raises(ParamsError, match=r"parameters\.modes\.0: Input should be 'frozen', 'finetune'"):
        check_parameters("protocol", _namespace("protocol", "modes = 'scrach'\n", modes="scrach"))


def test_one_label_seed_stands_for_one_search_draw_and_a_draw_counts_once():
    assert check_parameters("protocol", _namespace("protocol", "label_seeds = 2\n", label_seeds=2))[
        "label_seeds"
    ] == [2]
    with pytest.raises(ParamsError, match=r"parameters\.label_seeds: each label seed once"):
        check_parameters("protocol", _namespace("protocol", "label_seeds = [0, 0]\n", label_seeds=[0, 0]))
    with pytest.raises(ParamsError, match=r"label_seeds"):  # the field before 2026-12-07, named as it is now
        check_parameters("protocol", _namespace("protocol", "label_seed = 0\n", label_seed=0))


def test_checking_a_runs_parameters_imports_its_own_experiment_alone():
    """What a run's kernel imports is its cache key: checking the protocol's parameters must not
    import the other experiments' packages (`study.stage_named`), so that editing them stales nothing."""
    code = (
        "import sys; from aestudy.study import check_parameters, stage_named\n"
        "check_parameters('protocol', dict(stage_named('protocol').notebook_fields()))\n"
        "print(sorted({m.split('.')[2] for m in sys.modules if m.startswith('aestudy.experiments.')}))"
    )
    env = {"PYTHONPATH": str(REPO / "lib")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['protocol']"


def test_valid_parameters_pass_and_other_variables_are_ignored():
    ns = _namespace(
        "correlate", "n_images = 10\n", n_images=10, model=object()
    )  # e.g. a later cell's variable
    assert check_parameters("correlate", ns)["n_images"] == 10


@pytest.mark.slow
def test_plain_papermill_stops_on_a_typo_before_any_work(tmp_path):
    out_dir = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(REPO / "notebooks" / "autoencode.ipynb"),
            str(tmp_path / "o.ipynb"),
            "-p",
            "latnet_dim",
            "5",
            "-p",
            "out_dir",
            str(out_dir),
            "-k",
            "python3",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert (
        "ParamsError: notebooks/autoencode.ipynb: parameters.latnet_dim: unknown key; "
        "did you mean 'latent_dim'?"
    ) in proc.stderr
    assert not out_dir.exists()  # stopped before the data were loaded or anything was written


def test_an_experiments_report_thresholds_come_from_its_package_and_join_the_report_section(
    tmp_path, monkeypatch
):
    """An experiment declares its report thresholds in its own package (`thresholds.Thresholds`):
    the `report:` section takes them with no edit of aestudy.report_params; a name declared twice
    is refused."""
    import pydantic

    from aestudy import report_params

    found = {f for t in report_params.experiment_thresholds() for f in t.model_fields}
    assert (
        {"small_d_margin", "h1_margin", "min_accuracy"}
        <= found
        <= set(report_params.ReportParams.model_fields)
    )
    pkg = tmp_path / "threshold_experiments"
    (pkg / "denoise").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "denoise" / "__init__.py").write_text("")
    (pkg / "denoise" / "thresholds.py").write_text(
        "from pydantic import Field\nfrom aestudy.schema import Params\n"
        "class Thresholds(Params):\n    noise_margin: float = Field(0.05, gt=0)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    parts = report_params.experiment_thresholds("threshold_experiments", [str(pkg)])
    assembled = report_params._assemble(parts + report_params.experiment_thresholds())
    assert assembled().noise_margin == 0.05 and assembled().confidence == 0.95
    with pytest.raises(pydantic.ValidationError):
        assembled(noise_margin=-1)
    with pytest.raises(ValueError, match="declared twice: noise_margin"):
        report_params._assemble(parts + parts)


def test_every_bad_input_is_one_line_in_a_notebook_a_missing_dataset_too(tmp_path, monkeypatch):
    """IPython shows `_render_traceback_` instead of a traceback: a missing dataset was 42 lines
    of torchvision's frames before its one good line."""
    from aestudy.errors import BadInput
    from aestudy.science import data

    monkeypatch.delenv("DATA_DIR", raising=False)  # it would win over data_dir
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_split("mnist", train=True, data_dir=tmp_path, download=False)
    assert isinstance(info.value, BadInput)
    assert info.value._render_traceback_() == [f"DataNotFoundError: {info.value}"]
    assert "\n" not in str(info.value)
