"""The interpolate notebook's one call, `main`: on fake MNIST at toy size it measures the
autoencoders and the classifier it receives, trains stand-ins when it receives none (JupyterLab),
writes a metrics.json that passes the stage's contract and returns what the notebook shows."""

from __future__ import annotations

import json

from aestudy import metrics
from aestudy.experiments.interpolate.main import SHOWN_COLUMNS, main
from aestudy.experiments.reference import run as reference
from aestudy.science import artifacts
from aestudy.science.models import AEConfig, AutoEncoder
from aestudy.study import STAGES, check_parameters

TINY = {"pairs": [[1, 5]], "steps": 3, "pairs_per_digit_pair": 2, "n_reference": 20}


def _params(**values):
    """What the notebook's check cell returns for these parameter values (the rest their defaults)."""
    return check_parameters("interpolate", {**TINY, **values})


def _received(tmp_path):
    """An autoencode run's checkpoints (d = 3 and 4, seed 0) and a reference run's classifier."""
    checkpoints = []
    for d in (3, 4):
        cfg = AEConfig(latent_dim=d, num_conv=1)
        path = artifacts.save_checkpoint(
            tmp_path / f"ae{d}" / "model.pt", AutoEncoder(cfg), cfg.to_dict(), seed=0
        )
        checkpoints.append(str(path))
    # untrained, but saved as the reference run saves its classifier
    classifier = reference.save_reference(tmp_path / "classifier.pt", reference.ReferenceCNN(4, 16))
    return checkpoints, [str(classifier)]


def test_main_measures_the_received_models_with_the_received_classifier(fake_mnist, tmp_path, capsys):
    st = STAGES["interpolate"]
    checkpoints, classifiers = _received(tmp_path)
    result = main(_params(), checkpoints=checkpoints, classifiers=classifiers, out_dir=tmp_path / "run")
    metrics.check_run(result.out, st.products, st.metrics)
    written = json.loads((result.out / "metrics.json").read_text())
    assert [(r["latent_dim"], r["seed"], r["pair"]) for r in written["records"]] == [
        (3, 0, "1-5"),
        (4, 0, "1-5"),
    ]
    assert written["alphas"] == [0.0, 0.5, 1.0] and written["n_reference"] == 20
    assert set(json.loads((result.out / "resources.json").read_text())) == {"seconds", "peak_rss_mb"}
    assert not (result.out / "stand_in").exists()
    out = capsys.readouterr().out
    assert "No checkpoints given" not in out and "No classifier given" not in out
    assert (
        out.strip()
        == "2 models (1 with d=3; 1 with d=4); 1 digit pair x 2 image pairs; a near 0.5 is a = 0.50"
    )
    # what the notebook shows: the records of metrics.json, its table, the figures' data
    assert result.records.to_dict("records") == written["records"]
    assert list(result.table().columns) == list(SHOWN_COLUMNS)
    assert result.curves == written["curves"] and list(result.alphas) == written["alphas"]
    assert [p["pair"] for p in result.pairs] == [(1, 5)] and len(result.pairs[0]["rows"]) == 2


def test_main_without_checkpoints_or_classifier_trains_stand_ins(fake_mnist, tmp_path, capsys):
    st = STAGES["interpolate"]
    result = main(_params(), out_dir=tmp_path)
    out = capsys.readouterr().out
    assert "No checkpoints given: training 2 stand-in autoencoder(s) (d = 10, 20" in out
    assert "No classifier given: training a stand-in reference classifier" in out
    assert sorted(p.name for p in (tmp_path / "stand_in").iterdir()) == ["d10-nc1.pt", "d20-nc1.pt"]
    metrics.check_run(tmp_path, st.products, st.metrics)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["latent_dim"] for r in written["records"]] == [10, 20]
    assert all(0.1 <= r["mid_confidence"] <= 1 for r in written["records"])  # the stand-in classifier's
    assert [c for c, _ in result.models][0]["latent_dim"] == 10
