"""Tests for experiments 2-4: the labelled draw, interpolation through a model, the transfer
modes (frozen / finetune / scratch) and baselines, and - marked slow - the whole smoke
profile through papermill (interpolate, correlate, transfer) followed by the analyses notebook."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from aestudy.science import artifacts as science_artifacts, correlation, data, interpolation, models, standins, transfer
from aestudy.science.data import Split

REPO = Path(__file__).resolve().parents[1]
TINY = models.AEConfig(latent_dim=4, num_conv=1, c_factor=4, kernel_size=3, fc_hidden=32)


def real_mnist_root() -> Path | None:
    value = os.environ.get("DATA_DIR")
    if not value:
        return None
    root = Path(value).expanduser().resolve()
    return root if (root / "MNIST" / "raw" / "train-labels-idx1-ubyte").is_file() else None


needs_mnist = pytest.mark.skipif(real_mnist_root() is None,
                                 reason="real MNIST not found: set DATA_DIR to a folder holding MNIST/raw/ "
                                        "(e.g. ../shared/data)")


def tiny_autoencoder(seed: int = 0) -> models.AutoEncoder:
    torch.manual_seed(seed)
    return models.AutoEncoder(TINY)


def toy_split(n: int, seed: int) -> Split:
    """Images whose bright block position depends on the label: learnable, 10 classes."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = torch.rand(n, 1, 28, 28, generator=g) * 0.1
    for i, y in enumerate(labels.tolist()):
        r, c = 2 + 12 * (y // 5), 2 + 5 * (y % 5)
        images[i, 0, r:r + 10, c:c + 4] = 1.0
    return Split(images, labels)


# ------------------------------------------------------------------ the labelled draw

def _check_draw(labels: torch.Tensor):
    idx = data.labelled_subset(labels, 100, seed=3)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    counts = torch.bincount(labels[idx], minlength=10)
    assert counts.tolist() == [10] * 10                       # balanced by default
    assert torch.equal(idx, data.labelled_subset(labels, 100, seed=3))  # repeats for a seed
    assert not torch.equal(idx, data.labelled_subset(labels, 100, seed=4))
    free = data.labelled_subset(labels, 100, seed=3, balanced=False)
    assert len(free) == 100 and set(labels[free].tolist()) == set(range(10))
    assert torch.equal(free, data.labelled_subset(labels, 100, seed=3, balanced=False))


def test_labelled_draw_holds_every_label_balanced_and_repeats_synthetic():
    g = torch.Generator().manual_seed(0)
    _check_draw(torch.randint(0, 10, (5000,), generator=g))


@needs_mnist
def test_labelled_draw_on_real_mnist():
    split = data.load_split("mnist", train=True, data_dir=str(real_mnist_root()), download=False)
    _check_draw(split.labels)


# ------------------------------------------------------------------ interpolation through a model

def test_interpolation_ends_equal_decoding_the_endpoints():
    model = tiny_autoencoder().eval()
    split = toy_split(4, seed=1)
    x1, x2 = split.images[0], split.images[3]
    dec = interpolation.interpolate(model, x1, x2, steps=7)
    assert dec.shape == (7, 1, 28, 28)
    with torch.inference_mode():
        ends = model.decoder(model.encoder(torch.stack([x1, x2])))
    torch.testing.assert_close(dec[0], ends[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(dec[-1], ends[1], rtol=0, atol=1e-6)
    with torch.inference_mode():
        z = model.encoder(torch.stack([x1, x2]))
        middle = model.decoder(((z[0] + z[1]) / 2).unsqueeze(0))[0]
    torch.testing.assert_close(dec[3], middle, rtol=0, atol=1e-6)


def test_interpolation_and_correlation_studies_records():
    split = toy_split(40, seed=2)
    ms = [(TINY.to_dict(), tiny_autoencoder(0)),
          ({**TINY.to_dict(), "latent_dim": 6}, models.AutoEncoder(models.AEConfig(6, 1, 4, 3, 32)))]
    res = interpolation.interpolation_study(ms, split, split.images[:20].numpy(), [(1, 5), (0, 4)], steps=5, seed=0)
    recs = res["metrics"]["records"]
    assert len(recs) == 4 and {r["latent_dim"] for r in recs} == {4, 6}
    assert res["metrics"]["mid_alpha"] == 0.5
    for r in recs:
        assert split.labels[r["index_a"]] == r["digit_a"] and split.labels[r["index_b"]] == r["digit_b"]
        assert r["end_mse"] == pytest.approx((r["end_mse_a"] + r["end_mse_b"]) / 2)
    cor = correlation.correlation_study(ms, split.images)
    assert [r["latent_dim"] for r in cor["metrics"]["records"]] == [4, 6]
    assert np.asarray(cor["metrics"]["matrices"]["d6-nc1"]).shape == (6, 6)
    # same inputs and seed: the same metrics, to the bit (what metrics.json holds)
    again = interpolation.interpolation_study(ms, split, split.images[:20].numpy(), [(1, 5), (0, 4)], steps=5, seed=0)
    assert json.dumps(again["metrics"]) == json.dumps(res["metrics"])
    assert json.dumps(correlation.correlation_study(ms, split.images)["metrics"]) == json.dumps(cor["metrics"])


# ------------------------------------------------------------------ transfer modes

def _state(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_frozen_keeps_encoder_bit_identical_and_trains_the_head():
    enc = tiny_autoencoder().encoder
    before = _state(enc)
    split = toy_split(30, seed=3)
    head_before = _state(transfer.build_classifier(enc, 16, "frozen", seed=0).head)
    clf, loss = transfer.train_mode(enc, "frozen", 16, split.images, split.labels, steps=20, lr=1e-2, seed=0)
    for k, v in clf.encoder.state_dict().items():
        assert torch.equal(v, before[k]), k
    for k, v in enc.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert any(not torch.equal(v, head_before[k]) for k, v in clf.head.state_dict().items())
    assert np.isfinite(loss)
    # training on pre-computed features is the same as running the frozen encoder every step
    with torch.no_grad():
        torch.testing.assert_close(clf(split.images), clf.head(transfer.encode(enc, split.images)))


def test_finetune_changes_encoder_and_leaves_the_given_one_alone():
    enc = tiny_autoencoder().encoder
    before = _state(enc)
    split = toy_split(30, seed=3)
    clf, _ = transfer.train_mode(enc, "finetune", 16, split.images, split.labels, steps=5, lr=1e-2, seed=0)
    assert any(not torch.equal(v, before[k]) for k, v in clf.encoder.state_dict().items())
    for k, v in enc.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_scratch_starts_from_a_different_initialisation():
    pretrained = tiny_autoencoder(seed=0).encoder
    ref = _state(pretrained)
    s0 = transfer.build_classifier(pretrained, 16, "scratch", seed=0)
    s0_again = transfer.build_classifier(pretrained, 16, "scratch", seed=0)
    s1 = transfer.build_classifier(pretrained, 16, "scratch", seed=1)
    fin = transfer.build_classifier(pretrained, 16, "finetune", seed=0)
    for k, v in s0.encoder.state_dict().items():
        if k.endswith("weight"):
            assert not torch.equal(v, ref[k]), k                       # not the pre-trained weights
            assert not torch.equal(v, s1.encoder.state_dict()[k]), k   # seeded per run seed
            assert torch.equal(v, s0_again.encoder.state_dict()[k]), k  # and repeatable
    # same head initialisation across modes: the mode comparisons are paired
    for k, v in fin.head.state_dict().items():
        assert torch.equal(v, s0.head.state_dict()[k]), k
    with pytest.raises(ValueError):
        transfer.build_classifier(pretrained, 16, "partial", seed=0)


def test_run_transfer_records_baselines_and_determinism():
    enc = tiny_autoencoder().encoder
    train, test = toy_split(60, seed=4), toy_split(50, seed=5)
    kw = dict(h1=[8, 16], modes=["frozen", "finetune", "scratch"], seeds=[0, 1], n_labels=20, steps=30,
              lr=1e-2, baselines=True, device="cpu", progress=False)
    res = transfer.run_transfer(enc, train, test, **kw)
    recs = pd.DataFrame(res["records"])
    assert len(recs) == 2 * 2 * 3 + 2 * 2
    base = recs[recs["h1"].isna()]
    assert sorted(base["mode"].unique()) == ["1nn", "logreg"]
    assert (base["accuracy"] == 1.0).all()        # the toy classes are separable in pixels
    clf = recs[recs["h1"].notna()]
    assert clf["accuracy"].between(0, 1).all() and (clf["accuracy"] * 50 % 1 == 0).all()
    assert clf.loc[clf["mode"] == "finetune", "accuracy"].mean() > 0.2   # learns something in 30 steps
    assert res["records"] == transfer.run_transfer(enc, train, test, **kw)["records"]
    assert res["n_test"] == 50 and res["latent_dim"] == 4


def test_encoder_from_checkpoints_takes_exactly_one(tmp_path):
    ae = tiny_autoencoder()
    p = science_artifacts.save_checkpoint(tmp_path / "model.pt", ae, TINY.to_dict(), seed=3)
    enc = transfer.encoder_from_checkpoints([str(p)])
    assert torch.equal(enc.fc[1].weight, ae.encoder.fc[1].weight)
    with pytest.raises(ValueError, match="exactly one.*for_each: autoencode"):
        transfer.encoder_from_checkpoints([str(p), str(p)])
    ((cfg, model),) = science_artifacts.load_models([str(p)])
    assert cfg["seed"] == 3 and cfg["latent_dim"] == ae.cfg.latent_dim


@needs_mnist
def test_stand_in_checkpoints_train_and_load(tmp_path, capsys):
    paths = standins.stand_in_checkpoints([3], tmp_path, num_conv=1, data_dir=str(real_mnist_root()),
                                          n_images=200)
    assert "stand-in" in capsys.readouterr().out
    (cfg, model), = science_artifacts.load_models(paths)
    assert cfg["latent_dim"] == 3 and model.encoder.cfg.num_conv == 1


# ------------------------------------------------------------------ the smoke profile end to end

STAGES = ("autoencode", "interpolate", "correlate", "transfer")


@pytest.fixture(scope="module")
def smoke(smoke_profile):
    """The session's smoke sweep (conftest.smoke_profile): every stage run, then rendered,
    which executed the analyses notebook on that profile."""
    return smoke_profile


def _outputs_text(nb_path: Path) -> str:
    """What the executed notebook shows: its markdown cells (headings, fixed text) and its outputs."""
    nb = json.loads(nb_path.read_text())
    parts = []
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            parts.append("".join(c["source"]))
        for o in c.get("outputs", []):
            if "text" in o:
                parts.append("".join(o["text"]))
            for key in ("text/markdown", "text/plain"):
                if key in o.get("data", {}):
                    parts.append("".join(o["data"][key]))
    return "\n".join(parts)


@pytest.mark.slow
def test_smoke_tables_for_every_stage(smoke):
    t = {s: pd.read_csv(smoke["dir"] / "tables" / f"{s}.csv") for s in STAGES}
    for s, df in t.items():
        assert (df["status"].isin(["ok", "cached"])).all(), (s, df[["run_id", "status", "error"]])
    interp, corr, tr = t["interpolate"], t["correlate"], t["transfer"]
    # every seed's model is used: 2 latent sizes x 2 seeds
    assert len(interp) == 4 and set(interp["latent_dim"]) == {5, 10} and (interp["pair"] == "1-5").all()
    assert sorted(zip(interp["latent_dim"], interp["seed"])) == [(5, 0), (5, 1), (10, 0), (10, 1)]
    assert (interp["end_mse_a"] > 0).all() and (interp["mid_nn_distance"] > 0).all()
    assert sorted(zip(corr["latent_dim"], corr["seed"])) == [(5, 0), (5, 1), (10, 0), (10, 1)]
    assert ((corr["offdiag"] >= 0) & (corr["offdiag"] <= 1)).all()
    assert (corr["with_diag"] > corr["offdiag"]).all()
    # one record per (h1, mode, label seed) plus two baselines per label seed, for each of the four
    # encoders (2 latent sizes x 2 autoencoder seeds)
    assert len(tr) == 4 * (1 * 3 * 2 + 2 * 2)
    assert sorted(set(zip(tr["latent_dim"], tr["seed"]))) == [(5, 0), (5, 1), (10, 0), (10, 1)]
    assert set(tr["mode"]) == {"frozen", "finetune", "scratch", "logreg", "1nn"}
    assert tr.loc[tr["mode"].isin(["logreg", "1nn"]), "h1"].isna().all()
    assert (tr["n_test"] == 200).all() and tr["accuracy"].between(0, 1).all()
    for run in ("interpolate/all", "correlate/all", "transfer/d5-nc1-s0", "transfer/d10-nc1-s1"):
        assert (smoke["dir"] / "runs" / run / "complete.json").exists()
    assert list((smoke["dir"] / "runs" / "interpolate" / "all").glob("interpolation_1-5.png"))
    assert (smoke["dir"] / "runs" / "correlate" / "all" / "heatmaps.png").exists()
    assert (smoke["dir"] / "runs" / "transfer" / "d5-nc1-s0" / "accuracy.png").exists()


@pytest.mark.slow
def test_smoke_metrics_hold_numbers_only_and_timings_go_to_resources(smoke):
    for stage in ("interpolate", "correlate", "transfer"):
        for run in (smoke["dir"] / "runs" / stage).iterdir():
            metrics = json.loads((run / "metrics.json").read_text())
            text = json.dumps(metrics)
            assert "seconds" not in text and "rss" not in text, run
            assert "seconds" in json.loads((run / "resources.json").read_text()), run


@pytest.mark.slow
def test_analyses_notebook_on_smoke(smoke):
    text = _outputs_text(smoke["analyses"])
    for heading in ("# Convolutional autoencoders on MNIST", "## Summary", "## Experiment 1: autoencoding sweep",
                    "## Experiment 2: latent interpolation", "## Experiment 3: latent correlations",
                    "## Experiment 4: transfer learning with 100 labels"):
        assert heading in text, heading
    assert "| experiment | conclusion | this run's numbers | verdict |" in text
    assert text.count("| 4+ |") == 2 and "Warning" not in text
    figs = {p.name for p in (smoke["dir"] / "figures").glob("*.png")}
    assert {"autoencode_error_curves.png", "correlation.png", "correlation_heatmaps.png", "transfer.png",
            "interpolation_numbers.png"} <= figs
    nb = json.loads(smoke["analyses"].read_text())
    images = sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))
    assert images >= 7


@pytest.mark.slow
def test_analyses_notebook_names_failed_runs_and_survives_a_missing_stage(smoke):
    import papermill as pm

    pdir = smoke["tmp"] / "reports" / "broken"
    shutil.copytree(smoke["dir"], pdir)
    tr = pd.read_csv(pdir / "tables" / "transfer.csv")
    tr["error"] = tr["error"].astype(object)
    tr.loc[tr["run_id"] == "d10-nc1-s0", "status"] = "failed"
    tr.loc[tr["run_id"] == "d10-nc1-s0", "error"] = "RuntimeError: out of memory in d10"
    tr.to_csv(pdir / "tables" / "transfer.csv", index=False)
    (pdir / "tables" / "correlate.csv").unlink()
    out_nb = smoke["tmp"] / "analyses_broken.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "analyses.ipynb"), str(out_nb),
                        parameters={"profile_dir": str(pdir)}, kernel_name="python3", language="python",
                        cwd=str(REPO), progress_bar=False)
    text = _outputs_text(out_nb)
    assert "Warning: transfer run `d10-nc1-s0` failed**: RuntimeError: out of memory in d10" in text
    assert "No usable correlate runs" in text
    assert "## Experiment 4: transfer learning with 100 labels" in text


@pytest.mark.parametrize("name", ["interpolate", "correlate", "transfer", "analyses"])
def test_notebooks_are_committed_clean_with_one_parameters_cell(name):
    nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
    assert nb["metadata"]["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    assert nb["metadata"]["language_info"] == {"name": "python"}
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0]
    source = "".join(tagged[0]["source"])
    if name == "analyses":
        assert 'profile_dir = "reports/default"' in source
    else:
        assert "out_dir = None" in source and "checkpoints = []" in source
        assert "train.setup(" in "".join("".join(c["source"]) for c in code)
