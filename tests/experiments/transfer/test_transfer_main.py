"""The transfer stage's `main`: what its notebook runs, at toy size on the fake MNIST files."""

from __future__ import annotations

import pandas as pd

from aestudy import metrics
from aestudy.experiments.transfer import run as transfer
from aestudy.experiments.transfer.main import main
from aestudy.science import artifacts
from aestudy.study import STAGES
from conftest import stage_params

TINY = {"h1": [8], "modes": ["frozen", "scratch"], "label_seeds": [0], "n_labels": 20}


def test_main_without_checkpoints_trains_a_stand_in_and_writes_the_stages_products(
    fake_mnist, tmp_path, capsys
):
    result = main(stage_params("transfer", **TINY), out_dir=tmp_path / "run")
    assert (tmp_path / "run" / "stand_in" / "d10-nc1.pt").is_file()
    metrics.check_run(result.out, STAGES["transfer"].products, STAGES["transfer"].metrics)
    written = artifacts.read_json(result.out / "metrics.json")
    pd.testing.assert_frame_equal(result.records, pd.DataFrame(written["records"]), check_like=True)
    assert written["n_test"] == result.n_test == 50 and written["protocols"] == {} == result.protocols
    assert list(result.table()["mode"]) == ["frozen", "scratch", "logreg", "1nn"]
    resources = artifacts.read_json(result.out / "resources.json")
    assert set(resources) == {"seconds", "peak_rss_mb", "precision"} and resources["seconds"]["total"] > 0
    assert "encoder d=10, num_conv=1; 4 records; test set of 50 images; " in capsys.readouterr().out


def test_main_trains_each_mode_by_the_protocol_it_receives(fake_mnist, tmp_path):
    first = main(stage_params("transfer", **TINY, baselines=False), out_dir=tmp_path / "a")
    path = tmp_path / "protocol.json"
    artifacts.write_json(path, {"frozen": {"chosen": {"steps": 3, "lr": 3e-3}, "cv_accuracy": 0.5}})
    result = main(
        stage_params("transfer", **TINY, baselines=False),
        checkpoints=[str(first.out / "stand_in" / "d10-nc1.pt")],
        protocols=[str(path)],
        out_dir=tmp_path / "b",
    )
    assert not (result.out / "stand_in").exists()
    assert artifacts.read_json(result.out / "metrics.json")["protocols"] == transfer.protocols_from(
        [str(path)]
    )
    cv = dict(zip(result.records["mode"], result.records["cv_accuracy"]))
    assert cv["frozen"] == 0.5 and pd.isna(cv["scratch"])  # scratch: the untuned protocol, never scored
    untuned = first.records.set_index("mode")["accuracy"]
    assert result.records.set_index("mode")["accuracy"]["scratch"] == untuned["scratch"]
