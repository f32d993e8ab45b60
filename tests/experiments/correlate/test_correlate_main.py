"""experiments.correlate.main: the notebook's one call encodes the autoencoders' own training
images, writes a metrics.json that keeps the stage's contract and returns its records; without
checkpoints it trains its stand-ins first. On fake MNIST, with tiny models."""

from __future__ import annotations

import json

import pandas as pd

from aestudy import metrics
from aestudy.experiments.correlate import main as correlate_main
from aestudy.experiments.correlate import plots
from aestudy.science import artifacts
from aestudy.science.models import AEConfig, AutoEncoder
from aestudy.study import STAGES, check_parameters


def _checkpoints(tmp_path, dims=(3, 5), seeds=(0, 1), val_size=20) -> list[str]:
    """Untrained tiny autoencoders saved as autoencode saves them (holding `val_size` images out)."""
    paths = []
    for d in dims:
        for seed in seeds:
            model = AutoEncoder(AEConfig(latent_dim=d, num_conv=1, c_factor=2, fc_hidden=16))
            paths.append(
                str(
                    artifacts.save_checkpoint(
                        tmp_path / "ckpt" / f"d{d}-s{seed}.pt",
                        model,
                        model.encoder.cfg.to_dict(),
                        seed=seed,
                        val_size=val_size,
                    )
                )
            )
    return paths


def test_main_on_checkpoints_keeps_the_contract_and_returns_the_records_it_wrote(
    fake_mnist, tmp_path, capsys
):
    params = check_parameters("correlate", {"n_images": 50})
    result = correlate_main.main(params, checkpoints=_checkpoints(tmp_path), out_dir=tmp_path / "run")
    stage = STAGES["correlate"]
    metrics.check_run(tmp_path / "run", stage.products, stage.metrics)
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written == json.loads(json.dumps(result.metrics)) and written["n_encoded"] == 50
    pd.testing.assert_frame_equal(result.records, pd.DataFrame(written["records"]), check_like=True)
    assert sorted(zip(result.records["latent_dim"], result.records["seed"])) == [
        (3, 0),
        (3, 1),
        (5, 0),
        (5, 1),
    ]
    assert result.out == tmp_path / "run"
    assert {"seconds", "peak_rss_mb"} == set(json.loads((tmp_path / "run" / "resources.json").read_text()))
    # 200 fake training images, 20 of them the autoencoders' validation images: not encoded
    assert "4 models, 50 of their 180 training images encoded" in capsys.readouterr().out
    shown = result.shown_matrices()  # the smallest and the largest d of the smallest seed
    assert (
        list(shown) == ["d3-nc1-s0", "d5-nc1-s0"] and shown["d3-nc1-s0"] == written["matrices"]["d3-nc1-s0"]
    )
    plots.show(plots.correlation_heatmaps(shown), result.out / "heatmaps.png")


def test_main_without_checkpoints_trains_stand_ins_and_encodes_their_training_images(
    fake_mnist, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(correlate_main, "DIMS_WITHOUT_CHECKPOINTS", [2, 3])  # two small ones: seconds
    params = check_parameters("correlate", {"n_images": 40, "train_size": 100})
    result = correlate_main.main(params, out_dir=tmp_path)
    assert sorted(p.name for p in (tmp_path / "stand_in").iterdir()) == ["d2-nc1.pt", "d3-nc1.pt"]
    assert result.records["latent_dim"].tolist() == [2, 3]
    printed = capsys.readouterr().out
    assert "No checkpoints given: training 2 stand-in autoencoder(s)" in printed
    # the stand-ins train on IMAGES_WITHOUT_CHECKPOINTS (here all 200 fake ones), not on train_size
    assert "2 models, 40 of their 200 training images encoded" in printed
    metrics.check_run(tmp_path, STAGES["correlate"].products, STAGES["correlate"].metrics)
