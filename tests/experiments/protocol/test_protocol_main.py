"""The protocol stage's `main`: what its notebook runs, at toy size on the fake MNIST files."""

from __future__ import annotations

import pandas as pd

from aestudy import metrics
from aestudy.experiments.protocol.main import main
from aestudy.science import artifacts
from aestudy.study import STAGES
from conftest import stage_params

TINY = {
    "h1": 8,
    "n_labels": 20,
    "folds": 2,
    "candidates": 2,
    "space": {
        "steps": [2, 3],
        "lr": [1e-3],
        "weight_decay": [0.0],
        "augment": [False, True],
        "warmup": [0, 1],
        "encoder_lr": [1.0],
    },
}


def test_main_without_checkpoints_trains_a_stand_in_and_writes_the_stages_products(fake_mnist, tmp_path):
    result = main(stage_params("protocol", **TINY), out_dir=tmp_path / "run")
    stand_in = tmp_path / "run" / "stand_in" / "d10-nc1.pt"
    assert result.out == tmp_path / "run" and stand_in.is_file()
    metrics.check_run(result.out, STAGES["protocol"].products, STAGES["protocol"].metrics)
    written = artifacts.read_json(result.out / "metrics.json")
    assert written["encoders"] == [str(stand_in)] and (written["folds"], written["candidates"]) == (2, 2)
    pd.testing.assert_frame_equal(result.table(), pd.DataFrame(written["records"]), check_like=True)
    assert set(result.table()["mode"]) == set(STAGES["protocol"].params().modes)
    chosen = artifacts.read_json(result.out / "protocol.json")
    assert {m: c["chosen"] for m, c in chosen.items()} == {m: r["chosen"] for m, r in result.choice.items()}
    assert all(
        c["tuned_on"] == {"encoders": ["d=10, num_conv=1, seed=0"], "label_seeds": [0], "h1": 8}
        for c in chosen.values()
    )
    assert set(artifacts.read_json(result.out / "resources.json")) == {"precision", "peak_rss_mb"}


def test_main_chooses_for_the_modes_it_is_given_on_the_checkpoints_it_is_given(fake_mnist, tmp_path):
    first = main(stage_params("protocol", **TINY, modes=["frozen"]), out_dir=tmp_path / "a")
    ckpt = str(first.out / "stand_in" / "d10-nc1.pt")
    again = main(stage_params("protocol", **TINY, modes="frozen"), checkpoints=[ckpt], out_dir=tmp_path / "b")
    assert not (again.out / "stand_in").exists()  # no stand-in trained beside the checkpoint given
    assert set(artifacts.read_json(again.out / "protocol.json")) == {"frozen"}
    assert (
        artifacts.read_json(again.out / "metrics.json")["records"]
        == artifacts.read_json(first.out / "metrics.json")["records"]
    )  # the same encoder, draw and seeds: the same scores


def test_several_label_draws_score_each_candidate_over_every_draws_folds(fake_mnist, tmp_path):
    first = main(stage_params("protocol", **TINY, modes="frozen"), out_dir=tmp_path / "a")
    ckpt = [str(first.out / "stand_in" / "d10-nc1.pt")]
    one = {
        s: main(
            stage_params("protocol", **TINY, modes="frozen", label_seeds=s),
            checkpoints=ckpt,
            out_dir=tmp_path / str(s),
        )
        for s in (0, 1)
    }
    both = main(
        stage_params("protocol", **TINY, modes="frozen", label_seeds=[0, 1]),
        checkpoints=ckpt,
        out_dir=tmp_path / "both",
    )
    folds = artifacts.read_json(both.out / "metrics.json")["cv_folds"]["frozen"]
    alone = [artifacts.read_json(one[s].out / "metrics.json")["cv_folds"]["frozen"] for s in (0, 1)]
    assert folds == [a + b for a, b in zip(*alone)]  # draw 0's folds, then draw 1's: the same fits
    assert list(both.table()["cv_accuracy"]) == [sum(f) / len(f) for f in folds]
    assert artifacts.read_json(both.out / "metrics.json")["label_seeds"] == [0, 1]
    assert artifacts.read_json(both.out / "protocol.json")["frozen"]["tuned_on"]["label_seeds"] == [0, 1]
