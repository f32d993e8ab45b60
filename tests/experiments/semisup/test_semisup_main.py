"""The semisup stage's `main`: what its notebook runs, at toy size on the fake MNIST files (that
it chooses before it reads a test image: test_semisup.py)."""

from __future__ import annotations

import pandas as pd

from aestudy import metrics
from aestudy.experiments.semisup.main import main
from aestudy.science import artifacts
from aestudy.study import STAGES
from conftest import stage_params

TINY = {
    "h1": 8,
    "n_labels": 20,
    "label_seeds": [0],
    "folds": 2,
    "candidates": 2,
    "cv_steps": 1,
    "recipe": {"steps": 2, "unlabelled_batch": 8},
}


def test_main_without_checkpoints_trains_a_stand_in_and_writes_the_stages_products(
    fake_mnist, tmp_path, capsys
):
    result = main(stage_params("semisup", **TINY), out_dir=tmp_path / "run")
    assert (tmp_path / "run" / "stand_in" / "d10-nc1.pt").is_file()
    metrics.check_run(result.out, STAGES["semisup"].products, STAGES["semisup"].metrics)
    written = artifacts.read_json(result.out / "metrics.json")
    pd.testing.assert_frame_equal(result.records, pd.DataFrame(written["records"]), check_like=True)
    assert written["candidates"] == result.candidates.to_dict("records") and len(result.candidates) == 2
    assert (written["n_test"], written["n_pool"], written["latent_dim"]) == (50, 200, 10)
    recipe = artifacts.read_json(result.out / "recipe.json")
    assert recipe["chosen"] == written["recipe"] == result.choice["chosen"]
    assert recipe["selection"] == written["selection"] == result.selection
    compute = written["compute"]
    assert compute["search_steps"] == 2 * 2 * 1 and compute["steps_per_draw"] == 2
    assert list(result.table().index) == ["semi-supervised", "untuned protocol"]
    assert f"chosen: {result.selection['label']}" in capsys.readouterr().out


def test_main_compares_with_the_protocols_it_receives(fake_mnist, tmp_path):
    first = main(stage_params("semisup", **TINY), out_dir=tmp_path / "a")
    path = tmp_path / "protocol.json"
    artifacts.write_json(
        path,
        {"finetune": {"chosen": {"steps": 2}, "cv_accuracy": 0.5, "n_candidates": 3}},
    )
    result = main(
        stage_params("semisup", **TINY),
        checkpoints=[str(first.out / "stand_in" / "d10-nc1.pt")],
        protocols=[str(path)],
        out_dir=tmp_path / "b",
    )
    assert not (result.out / "stand_in").exists()
    by_method = result.records.set_index("method")
    assert list(by_method.index) == ["semi-supervised", "untuned protocol", "finetune"]
    assert (by_method.loc["finetune", "cv_accuracy"], by_method.loc["finetune", "selected_from"]) == (0.5, 3)
    # the same encoder, draws and recipe as the run that trained the stand-in: the same semi-supervised result
    assert (
        by_method.loc["semi-supervised", "accuracy"]
        == first.records.set_index("method").loc["semi-supervised", "accuracy"]
    )
