"""The reference notebook's one call, `main`: on fake MNIST at toy size it writes what the stage
declares and what interpolate reads, returns what the notebook shows, and is seeded."""

from __future__ import annotations

import json

import pytest

from aestudy import metrics
from aestudy.experiments.reference import run as reference
from aestudy.experiments.reference.main import main
from aestudy.study import STAGES, check_parameters

TINY = {"epochs": 1, "batch_size": 32, "channels": 4, "hidden": 16, "calibration_size": 20, "device": "cpu"}


def _params(**values):
    """What the notebook's check cell returns for these parameter values (the rest their defaults)."""
    return check_parameters("reference", {**TINY, **values})


def test_main_writes_the_classifier_and_a_metrics_json_that_passes_the_contract(fake_mnist, tmp_path, capsys):
    st = STAGES["reference"]
    result = main(_params(), out_dir=tmp_path / "run")
    assert result.out == tmp_path / "run"
    metrics.check_run(result.out, st.products, st.metrics)
    written = json.loads((result.out / "metrics.json").read_text())
    assert written["n_train"] + written["n_calibration"] == 200 and written["n_calibration"] == 20
    assert written["n_test"] == 50 and len(written["train_loss"]) == 1
    assert set(json.loads((result.out / "resources.json").read_text())) == {
        "seconds",
        "train_seconds",
        "peak_rss_mb",
    }
    # the classifier interpolate receives: calibrated with the temperature metrics.json records
    loaded = reference.load_reference(result.out / st.produces)
    assert written["temperature"] == result.metrics["temperature"] > 0
    assert float(loaded.temperature) == pytest.approx(written["temperature"], rel=1e-6)  # a float32 buffer
    line = capsys.readouterr().out
    assert line.startswith("trained on 180 images for 1 epoch in ") and "(fitted on 20 held-out" in line


def test_main_returns_the_records_of_metrics_json_and_each_test_image_for_the_histogram(fake_mnist, tmp_path):
    result = main(_params(), out_dir=tmp_path)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert result.records.to_dict("records") == written["records"]
    table = result.table()
    assert table.index.name == "digit" and list(table.columns) == ["n", "accuracy", "mean_confidence"]
    assert table["n"].sum() == written["n_test"] == len(result.confidence) == len(result.correct)
    assert result.correct.mean() == written["test_accuracy"]


def test_main_is_seeded_the_same_parameters_write_the_same_numbers(fake_mnist, tmp_path):
    first = main(_params(seed=3), out_dir=tmp_path / "a")
    again = main(_params(seed=3), out_dir=tmp_path / "b")
    assert (tmp_path / "a" / "metrics.json").read_text() == (tmp_path / "b" / "metrics.json").read_text()
    other = main(_params(seed=4), out_dir=tmp_path / "c")
    assert other.metrics["train_loss"] != first.metrics["train_loss"] == again.metrics["train_loss"]
