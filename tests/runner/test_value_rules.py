"""Values a run could only fail on are refused when the parameter file is read: one line naming
the file and the field, before any run starts, so that no complete run is replaced by a failed one.
Each case is the committed smoke profile with one value changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from aestudy import study
from aestudy.runner.paramfile import load_study
from aestudy.schema import ParamsError

SMOKE = (Path(__file__).resolve().parents[2] / "params" / "smoke.yaml").read_text()

CASES = {
    "more labels than training images": (
        "n_labels: 20, folds: 2, candidates: 2,",
        "n_labels: 1000, folds: 2, candidates: 2,",
        "stages.protocol.params.n_labels: 1,000 labelled images drawn from 300 training images",
    ),
    "more folds than labels per class": (
        "n_labels: 20, folds: 2, candidates: 2,",
        "n_labels: 20, folds: 30, candidates: 2,",
        "stages.protocol.params.folds: at most 2: n_labels 20 gives 2 labelled images per class",
    ),
    "semisup folds too": (
        "label_seeds: [0, 1], folds: 2,",
        "label_seeds: [0, 1], folds: 3,",
        "stages.semisup.params.folds: at most 2",
    ),
    "calibration takes every training image": (
        "calibration_size: 50}",
        "calibration_size: 300}",
        "stages.reference.params.calibration_size: 300 leaves none of the 300 training images",
    ),
    "a size read from true": ("train_size: 300", "train_size: true", "data.train_size: true/false where"),
    "a size past the dataset": (
        "test_size: 200",
        "test_size: 20000",
        "data.test_size: 20,000 is more than MNIST's 10,000 test images",
    ),
    "a seed past numpy's range": (
        "seed: [0, 1]  ",
        "seed: [0, 18446744073709551616]  ",
        "stages.autoencode.grid.seed: Input should be less than 4294967296",
    ),
    "a negative model seed": ("seed: [0, 1]  ", "seed: [0, -1]  ", "stages.autoencode.grid.seed:"),
    "an infinite rate": (
        "lr: 1.0e-3, warmup",
        "lr: .inf, warmup",
        "stages.autoencode.params.lr: Input should be a finite",
    ),
    "an unknown device": (
        "balanced: true, baselines: true,",
        "balanced: true, baselines: true, device: tpu,",
        "stages.transfer.params.device: must be auto, cpu, cuda, cuda:N or mps",
    ),
    "a bool among label seeds": (
        "label_seeds: [0, 1], n_labels: 20,\n",
        "label_seeds: [0, true], n_labels: 20,\n",
        "stages.transfer.params.label_seeds: true/false where",
    ),
    "correlate given the reference classifier": (
        "uses: {autoencode: {}}\n    params: {n_images",
        "uses: {reference: {}}\n    params: {n_images",
        "stages.correlate.uses.reference: reference produces nothing that correlate receives",
    ),
    "theory samples past memory": (
        "n_samples: 2001}",
        "n_samples: 1000000000000}",
        "stages.theory.params.n_samples: Input should be less than or equal to 1000000",
    ),
    "an unknown key in a nested section lists the section's keys": (
        "warmup: [0, 2], encoder_lr",
        "warmup: [0, 2], foo: [1], encoder_lr",
        "space.foo: unknown key 'foo' (allowed: steps, lr, weight_decay, augment, warmup, encoder_lr)",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_value_a_run_would_fail_on_is_refused_when_the_file_is_read(case, tmp_path):
    old, new, expected = CASES[case]
    assert old in SMOKE, "the smoke profile changed: update the case"
    path = tmp_path / "bad.yaml"
    path.write_text(SMOKE.replace(old, new, 1))
    with pytest.raises(ParamsError) as err:
        load_study(path)
    line = str(err.value)
    assert line.startswith(f"{path}: ") and expected in line and "\n" not in line, line


def test_the_committed_profiles_pass_every_rule():
    for path in sorted((Path(__file__).resolve().parents[2] / "params").glob("*.yaml")):
        load_study(path)


def test_a_notebook_checks_its_values_against_its_data_section_as_the_runner_does():
    namespace = {"train_size": 300, "n_labels": 1000}
    with pytest.raises(
        ParamsError, match=r"^notebooks/transfer.ipynb: parameters.n_labels: 1,000 labelled images"
    ):
        study.check_parameters("transfer", namespace)
    namespace = {"train_size": None, "calibration_size": 59_999}
    assert study.check_parameters("reference", namespace)["calibration_size"] == 59_999


PLAN_CASES = {
    "transfer once per protocol run, so with every encoder": (
        "    for_each: autoencode\n",
        "    for_each: protocol\n",
        "stages.transfer.uses.autoencode: gives each transfer run 4 autoencode runs, and a transfer run "
        "takes one (checkpoints); select one or set `for_each: autoencode`",
    ),
    "semisup given every encoder": (
        "autoencode: {latent_dim: 5, num_conv: 1, seed: 0}, protocol: {}",
        "autoencode: {}, protocol: {}",
        "stages.semisup.uses.autoencode: gives each semisup run 4 autoencode runs",
    ),
}


@pytest.mark.parametrize("case", list(PLAN_CASES))
def test_a_stage_that_takes_one_encoder_given_several_is_refused_when_the_runs_are_planned(
    case, tmp_path, tmp_reports
):
    """Each run would fail inside its notebook ('exactly one encoder checkpoint'), replacing any
    complete run of that folder by a failed one."""
    from aestudy.runner.plan import plan

    old, new, expected = PLAN_CASES[case]
    assert old in SMOKE, "the smoke profile changed: update the case"
    path = tmp_path / "bad.yaml"
    path.write_text(SMOKE.replace(old, new, 1))
    with pytest.raises(ParamsError) as err:
        plan(load_study(path))
    line = str(err.value)
    assert line.startswith(f"{path}: ") and expected in line and "\n" not in line, line


def test_a_wrong_value_on_a_grid_axis_of_a_list_field_is_named_by_the_axis(tmp_path):
    """A stage that takes a list (protocol's `modes`) turns each grid value into a list of one: the
    error named 'grid.modes.0' (the first value of the axis) where the second was wrong."""
    old = "    params: {h1: 32, modes: [frozen, finetune, scratch, augmented], n_labels: 20,"
    assert old in SMOKE, "the smoke profile changed: update the case"
    path = tmp_path / "bad.yaml"
    path.write_text(
        SMOKE.replace(old, "    grid: {modes: [frozen, finetun]}\n    params: {h1: 32, n_labels: 20,", 1)
    )
    with pytest.raises(ParamsError) as err:
        load_study(path)
    line = str(err.value)
    assert line.startswith(f"{path}: stages.protocol.grid.modes: Input should be 'frozen'"), line
    assert line.endswith("(got 'finetun')") and "\n" not in line, line


def test_a_whole_float_on_an_integer_grid_axis_is_the_same_run_as_the_integer(tmp_path):
    """`latent_dim: [5.0, 10]` planned a run `d5.0-…` of its own beside the complete `d5-…`, and
    trained it again, where `epochs: 1.0` under params was already the run of `epochs: 1`."""
    from aestudy.runner.plan import plan

    old = "      latent_dim: [5, 10]"
    assert old in SMOKE, "the smoke profile changed: update the case"
    path = tmp_path / "floats.yaml"
    path.write_text(
        SMOKE.replace(old, "      latent_dim: [5.0, 10]", 1).replace("seed: [0, 1]", "seed: [0, 1.0]", 1)
    )
    given, committed = load_study(path), load_study(_smoke(tmp_path))
    assert [r.name for r in plan(given)] == [r.name for r in plan(committed)]
    assert [p["grid"] for p in given.grid_points("autoencode")] == [
        p["grid"] for p in committed.grid_points("autoencode")
    ]
    assert all(type(v) is int for p in given.grid_points("autoencode") for v in p["grid"].values())


def _smoke(tmp_path) -> Path:
    path = tmp_path / "smoke.yaml"
    path.write_text(SMOKE)
    return path
