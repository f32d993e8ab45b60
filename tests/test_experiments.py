"""Tests for experiments 2-4: the labelled draw, interpolation through a model, the transfer
modes (frozen / finetune / scratch) and baselines, and - marked slow - the whole smoke
profile through papermill (interpolate, correlate, transfer) followed by the analyses notebook."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from aestudy.experiments.autoencode import standins
from aestudy.experiments.correlate import run as correlation
from aestudy.experiments.interpolate import run as interpolation
from aestudy.experiments.reference import run as reference
from aestudy.experiments.transfer import run as transfer
from aestudy.science import artifacts as science_artifacts
from aestudy.science import data, fitting, models
from aestudy.science.data import Split

REPO = Path(__file__).resolve().parents[1]
TINY = models.AEConfig(latent_dim=4, num_conv=1, c_factor=4, kernel_size=3, fc_hidden=32)


def real_mnist_root() -> Path | None:
    value = os.environ.get("DATA_DIR")
    if not value:
        return None
    root = Path(value).expanduser().resolve()
    return root if (root / "MNIST" / "raw" / "train-labels-idx1-ubyte").is_file() else None


needs_mnist = pytest.mark.skipif(
    real_mnist_root() is None,
    reason="real MNIST not found: set DATA_DIR to a folder holding MNIST/raw/ (e.g. ../shared/data)",
)


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
        images[i, 0, r : r + 10, c : c + 4] = 1.0
    return Split(images, labels)


# ------------------------------------------------------------------ the labelled draw


def _check_draw(labels: torch.Tensor):
    idx = data.labelled_subset(labels, 100, seed=3)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    counts = torch.bincount(labels[idx], minlength=10)
    assert counts.tolist() == [10] * 10  # balanced by default
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
    ms = [
        (TINY.to_dict(), tiny_autoencoder(0)),
        (
            {**TINY.to_dict(), "latent_dim": 6},
            models.AutoEncoder(
                models.AEConfig(latent_dim=6, num_conv=1, c_factor=4, kernel_size=3, fc_hidden=32)
            ),
        ),
    ]
    clf = reference.ReferenceCNN(channels=4, hidden=16).eval()
    res = interpolation.run(
        ms,
        split,
        split.images[:20].numpy(),
        [(1, 5), (0, 4)],
        steps=5,
        seed=0,
        classifier=clf,
        pairs_per_digit_pair=3,
    )
    recs = res["metrics"]["records"]
    assert len(recs) == 4 and {r["latent_dim"] for r in recs} == {4, 6}
    assert res["metrics"]["mid_alpha"] == 0.5
    for r in recs:
        assert split.labels[r["index_a"]] == r["digit_a"] and split.labels[r["index_b"]] == r["digit_b"]
        assert r["end_mse"] == pytest.approx((r["end_mse_a"] + r["end_mse_b"]) / 2)
        assert r["n_image_pairs"] == 3 and r["end_sharpness"] > 0
        assert r["end_sharpness"] == pytest.approx((r["end_sharpness_a"] + r["end_sharpness_b"]) / 2)
        assert 0.1 <= r["mid_confidence"] <= 1 and 0.1 <= r["input_confidence"] <= 1
        assert 0 <= r["mid_entropy"] <= reference.MAX_ENTROPY + 1e-9
    # the figure shows the first image pair, the same images as one pick_image per digit
    (a, b) = res["pairs"][0]["inputs"]
    assert torch.equal(a, split.images[interpolation.pick_image(split.labels, 1, 0)])
    assert torch.equal(b, split.images[interpolation.pick_image(split.labels, 5, 0)])
    assert res["pairs"][0]["rows"][0]["decodes"].shape == (5, 1, 28, 28)
    # the curves along a: one per digit pair and model, the ends equal the records' end sharpness
    curves = res["metrics"]["curves"]
    assert len(curves) == 4 and all(len(c["sharpness"]) == len(c["confidence"]) == 5 for c in curves)
    for c, r in zip(curves, recs):
        assert (c["sharpness"][0] + c["sharpness"][-1]) / 2 == pytest.approx(r["end_sharpness"])
    cor = correlation.run(ms, split.images)
    assert [r["latent_dim"] for r in cor["metrics"]["records"]] == [4, 6]
    assert np.asarray(cor["metrics"]["matrices"]["d6-nc1"]).shape == (6, 6)
    # same inputs and seed: the same metrics, to the bit (what metrics.json holds)
    again = interpolation.run(
        ms,
        split,
        split.images[:20].numpy(),
        [(1, 5), (0, 4)],
        steps=5,
        seed=0,
        classifier=clf,
        pairs_per_digit_pair=3,
    )
    assert json.dumps(again["metrics"]) == json.dumps(res["metrics"])
    assert json.dumps(correlation.run(ms, split.images)["metrics"]) == json.dumps(cor["metrics"])
    # without a classifier: no confidence, the rest as before
    bare = interpolation.run(ms, split, split.images[:20].numpy(), [(1, 5)], steps=5, seed=0)
    assert (
        "mid_confidence" not in bare["metrics"]["records"][0]
        and bare["metrics"]["records"][0]["n_image_pairs"] == 1
    )


def test_interpolate_pairs_equals_one_pair_at_a_time():
    model = tiny_autoencoder().eval()
    split = toy_split(6, seed=4)
    many = interpolation.interpolate_pairs(model, split.images[:3], split.images[3:], steps=4)
    assert many.shape == (3, 4, 1, 28, 28)
    for i in range(3):
        torch.testing.assert_close(
            many[i],
            interpolation.interpolate(model, split.images[i], split.images[3 + i], 4),
            rtol=0,
            atol=1e-6,
        )


# ------------------------------------------------------------------ the reference classifier (experiment 2)


def test_reference_classifier_learns_is_seeded_and_round_trips(tmp_path):
    split = toy_split(400, seed=5)
    model, hist = reference.run(
        split.images, split.labels, epochs=3, batch_size=32, lr=1e-2, seed=1, channels=4, hidden=16
    )
    assert len(hist["train_loss"]) == 3 and hist["train_loss"][-1] < hist["train_loss"][0]
    held_out = toy_split(100, seed=6)
    assert reference.accuracy(model, held_out.images, held_out.labels) > 0.9
    again, _ = reference.run(
        split.images, split.labels, epochs=3, batch_size=32, lr=1e-2, seed=1, channels=4, hidden=16
    )
    for k, v in model.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k
    path = reference.save_reference(tmp_path / "classifier.pt", model, seed=1)
    loaded = reference.load_reference(path)
    assert isinstance(reference.load_one([str(path)]), reference.ReferenceCNN)
    with pytest.raises(ValueError, match="expected one reference classifier, got 2"):
        reference.load_one([str(path), str(path)])
    torch.testing.assert_close(
        reference.probabilities(loaded, held_out.images),
        reference.probabilities(model, held_out.images),
        rtol=0,
        atol=0,
    )
    conf = reference.confidence(model, held_out.images)
    assert ((conf["confidence"] >= 0.1) & (conf["confidence"] <= 1)).all()
    assert ((conf["entropy"] >= 0) & (conf["entropy"] <= reference.MAX_ENTROPY + 1e-9)).all()
    summary = reference.test_summary(model, held_out.images, held_out.labels)
    assert summary["accuracy"] == pytest.approx(reference.accuracy(model, held_out.images, held_out.labels))
    assert [r["digit"] for r in summary["records"]] == list(range(10))
    # an autoencoder checkpoint is not a reference classifier
    ae = science_artifacts.save_checkpoint(tmp_path / "model.pt", tiny_autoencoder(), TINY.to_dict())
    with pytest.raises(science_artifacts.CorruptArtifact, match="not a reference classifier"):
        reference.load_reference(ae)


def test_confidence_of_uniform_and_certain_outputs():
    class Fixed(torch.nn.Module):
        def __init__(self, logits):
            super().__init__()
            self.logits = torch.as_tensor(logits, dtype=torch.float32)

        def forward(self, x):
            return self.logits.expand(len(x), -1)

    x = torch.zeros(2, 1, 28, 28)
    uniform = reference.confidence(Fixed([0.0] * 10), x)
    np.testing.assert_allclose(uniform["confidence"], 0.1, rtol=1e-6)
    np.testing.assert_allclose(uniform["entropy"], reference.MAX_ENTROPY, rtol=1e-6)
    certain = reference.confidence(Fixed([0.0] * 3 + [100.0] + [0.0] * 6), x)
    np.testing.assert_allclose(certain["confidence"], 1.0)
    assert (certain["top"] == 3).all() and (certain["entropy"] < 1e-6).all()


# ------------------------------------------------------------------ wiring: interpolate gets two upstream stages


def test_interpolate_receives_the_checkpoints_and_the_reference_classifier(tmp_reports):
    from aestudy.runner import records
    from aestudy.runner.paramfile import load_study
    from aestudy.runner.plan import plan
    from aestudy.study import STAGES as DECLARED

    runs = {r.name: r for r in plan(load_study(REPO / "params" / "smoke.yaml"))}
    ref, interp = runs["reference/all"], runs["interpolate/all"]
    assert interp.params["classifiers"] == [str(Path(ref.dir) / DECLARED["reference"].produces)]
    autoencoders = [u for u in interp.upstream if u.startswith("autoencode/")]
    assert interp.params["checkpoints"] == [str(Path(runs[u].dir) / "model.pt") for u in autoencoders]
    assert set(interp.upstream) == {*autoencoders, "reference/all"} and len(autoencoders) == 4
    assert (
        "classifiers" not in records.inputs(interp, {}, "abc")["params"]
    )  # located by the upstream key instead
    keys = {u: "k" for u in interp.upstream}
    a = records.inputs(interp, keys, "abc")
    b = records.inputs(interp, {**keys, "reference/all": "retrained"}, "abc")
    assert records.key(a, {}) != records.key(b, {})
    assert records.input_changes(a, b) == ["upstream reference/all changed"]
    # the reference run reads the profile's training subset and is keyed by its own parameters
    assert ref.params["train_size"] == 300 and ref.upstream == []


# ------------------------------------------------------------------ transfer modes


def _state(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_frozen_keeps_encoder_bit_identical_and_trains_the_head():
    enc = tiny_autoencoder().encoder
    before = _state(enc)
    split = toy_split(30, seed=3)
    head_before = _state(transfer.build_classifier(enc, 16, "frozen", seed=0).head)
    clf, loss = transfer.train_mode(
        enc, "frozen", 16, split.images, split.labels, seed=0, protocol={"steps": 20, "lr": 1e-2}
    )
    for k, v in clf.encoder.state_dict().items():
        assert torch.equal(v, before[k]), k
    for k, v in enc.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert any(not torch.equal(v, head_before[k]) for k, v in clf.head.state_dict().items())
    assert np.isfinite(loss)
    # training on pre-computed features is the same as running the frozen encoder every step
    with torch.no_grad():
        torch.testing.assert_close(clf(split.images), clf.head(fitting.encode(enc, split.images)))


def test_finetune_changes_encoder_and_leaves_the_given_one_alone():
    enc = tiny_autoencoder().encoder
    before = _state(enc)
    split = toy_split(30, seed=3)
    clf, _ = transfer.train_mode(
        enc, "finetune", 16, split.images, split.labels, seed=0, protocol={"steps": 5, "lr": 1e-2}
    )
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
            assert not torch.equal(v, ref[k]), k  # not the pre-trained weights
            assert not torch.equal(v, s1.encoder.state_dict()[k]), k  # seeded per run seed
            assert torch.equal(v, s0_again.encoder.state_dict()[k]), k  # and repeatable
    # same head initialisation across modes: the mode comparisons are paired
    for k, v in fin.head.state_dict().items():
        assert torch.equal(v, s0.head.state_dict()[k]), k
    with pytest.raises(ValueError):
        transfer.build_classifier(pretrained, 16, "partial", seed=0)


def test_a_transfer_run_records_baselines_and_repeats_itself():
    enc = tiny_autoencoder().encoder
    train, test = toy_split(60, seed=4), toy_split(50, seed=5)
    chosen = {
        m: {"chosen": {"steps": 30, "lr": 1e-2}, "cv_accuracy": 0.5}
        for m in ("frozen", "finetune", "scratch")
    }
    kw = dict(
        h1=[8, 16],
        modes=["frozen", "finetune", "scratch"],
        seeds=[0, 1],
        n_labels=20,
        protocols=chosen,
        baselines=True,
        device="cpu",
        progress=False,
    )
    res = transfer.run(enc, train, test, **kw)
    recs = pd.DataFrame(res["records"])
    assert len(recs) == 2 * 2 * 3 + 2 * 2
    base = recs[recs["h1"].isna()]
    assert sorted(base["mode"].unique()) == ["1nn", "logreg"]
    assert (base["accuracy"] == 1.0).all()  # the toy classes are separable in pixels
    clf = recs[recs["h1"].notna()]
    assert clf["accuracy"].between(0, 1).all() and (clf["accuracy"] * 50 % 1 == 0).all()
    assert clf.loc[clf["mode"] == "finetune", "accuracy"].mean() > 0.2  # learns something in 30 steps
    assert res["records"] == transfer.run(enc, train, test, **kw)["records"]
    assert set(clf["cv_accuracy"]) == {0.5}  # the protocol's score travels with each record
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
    paths = standins.stand_in_checkpoints(
        [3], tmp_path, num_conv=1, data_dir=str(real_mnist_root()), n_images=200
    )
    assert "stand-in" in capsys.readouterr().out
    ((cfg, model),) = science_artifacts.load_models(paths)
    assert cfg["latent_dim"] == 3 and model.encoder.cfg.num_conv == 1


# ------------------------------------------------------------------ the smoke profile end to end

STAGES = ("autoencode", "reference", "interpolate", "correlate", "transfer")


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
    assert (interp["n_image_pairs"] == 5).all() and (interp["end_sharpness"] > 0).all()
    assert interp["mid_confidence"].between(0.1, 1).all() and interp["input_confidence"].between(0.1, 1).all()
    ref = t["reference"]
    assert ref["run_id"].eq("all").all() and ref["test_accuracy"].between(0, 1).all()
    assert (ref["n_train"] + ref["n_calibration"] == 300).all() and (ref["n_calibration"] == 50).all()
    assert (
        (ref["temperature"] > 0).all()
        and ref["test_ece"].between(0, 1).all()
        and ref["test_ece_raw"].between(0, 1).all()
    )
    # experiment 2's measures relative to the model's own ends, and pairs drawn per model (2 d x 2 seeds)
    assert (interp["mid_pair_mass_rel"] > 0).all() and (interp["end_sharpness_error"] >= 0).all()
    per_model = interp.groupby(["seed", "latent_dim"])["pair_seed"]
    assert per_model.nunique().eq(1).all() and interp["pair_seed"].nunique() == 4
    assert not interp["shared_images"].astype(str).str.lower().eq("true").any()
    assert (corr["participation_ratio"].between(1 - 1e-9, corr["latent_dim"])).all()
    wired = json.loads((smoke["dir"] / "runs" / "interpolate" / "all" / "complete.json").read_text())
    reference_key = json.loads((smoke["dir"] / "runs" / "reference" / "all" / "complete.json").read_text())[
        "key"
    ]
    assert wired["inputs"]["upstream"]["reference/all"] == reference_key
    assert (
        "classifier.pt"
        in json.loads((smoke["dir"] / "runs" / "reference" / "all" / "complete.json").read_text())[
            "artifacts"
        ]
    )
    curves = json.loads((smoke["dir"] / "runs" / "interpolate" / "all" / "metrics.json").read_text())[
        "curves"
    ]
    assert len(curves) == 4 and all(len(c["sharpness"]) == len(c["confidence"]) == 5 for c in curves)
    assert sorted(zip(corr["latent_dim"], corr["seed"])) == [(5, 0), (5, 1), (10, 0), (10, 1)]
    assert ((corr["offdiag"] >= 0) & (corr["offdiag"] <= 1)).all()
    assert (corr["with_diag"] > corr["offdiag"]).all()
    # one record per (h1, mode, label seed) plus two baselines per label seed, for each of the four
    # encoders (2 latent sizes x 2 autoencoder seeds)
    assert len(tr) == 4 * (1 * 4 * 2 + 2 * 2)
    assert sorted(set(zip(tr["latent_dim"], tr["seed"]))) == [(5, 0), (5, 1), (10, 0), (10, 1)]
    assert set(tr["mode"]) == {"frozen", "finetune", "scratch", "augmented", "logreg", "1nn"}
    assert tr.loc[tr["h1"].notna(), "cv_accuracy"].between(0, 1).all()  # each mode's protocol, chosen by CV
    assert tr.loc[tr["mode"].isin(["logreg", "1nn"]), "h1"].isna().all()
    assert (tr["n_test"] == 200).all() and tr["accuracy"].between(0, 1).all()
    for run in ("interpolate/all", "correlate/all", "transfer/d5-nc1-s0", "transfer/d10-nc1-s1"):
        assert (smoke["dir"] / "runs" / run / "complete.json").exists()
    assert list((smoke["dir"] / "runs" / "interpolate" / "all").glob("interpolation_1-5.png"))
    assert (smoke["dir"] / "runs" / "correlate" / "all" / "heatmaps.png").exists()
    assert (smoke["dir"] / "runs" / "transfer" / "d5-nc1-s0" / "accuracy.png").exists()


@pytest.mark.slow
def test_smoke_metrics_hold_numbers_only_and_timings_go_to_resources(smoke):
    for stage in ("reference", "interpolate", "correlate", "transfer"):
        for run in (smoke["dir"] / "runs" / stage).iterdir():
            metrics = json.loads((run / "metrics.json").read_text())
            text = json.dumps(metrics)
            assert "seconds" not in text and "rss" not in text, run
            assert "seconds" in json.loads((run / "resources.json").read_text()), run


@pytest.mark.slow
def test_analyses_notebook_on_smoke(smoke):
    text = _outputs_text(smoke["analyses"])
    for heading in (
        "# Convolutional autoencoders on MNIST",
        "## Summary",
        "## Experiment 1: autoencoding sweep",
        "## Experiment 2: latent interpolation",
        "## Experiment 3: latent correlations",
        "## Experiment 4: transfer learning with few labels",
    ):
        assert heading in text, heading
    nb = json.loads(smoke["analyses"].read_text())
    html = "".join(
        "".join(o["data"]["text/html"])
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    )
    assert html.count('<div class="verdict-block">') == html.count(">All numbers</summary>") >= 12
    assert html.count('<span class="verdict-exp">4+</span>') == 3 and "Warning" not in text
    # the protocols, chosen without the test set (parentheses left as they are: "\\(" would be math)
    assert "| mode | train | cross-validation (selected) | test | seeds |" in text
    figs = {p.name for p in (smoke["dir"] / "figures").glob("*.png")}
    assert {
        "autoencode_error_curves.png",
        "correlation.png",
        "correlation_heatmaps.png",
        "transfer.png",
        "interpolation_along_a.png",
    } <= figs
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
    pm.execute_notebook(
        str(REPO / "notebooks" / "analyses.ipynb"),
        str(out_nb),
        parameters={"profile_dir": str(pdir)},
        kernel_name="python3",
        language="python",
        cwd=str(REPO),
        progress_bar=False,
    )
    text = _outputs_text(out_nb)
    assert "Warning: transfer run `d10-nc1-s0` failed**: RuntimeError: out of memory in d10" in text
    assert "No usable correlate runs" in text
    assert "## Experiment 4: transfer learning with few labels" in text


@pytest.mark.parametrize("name", ["reference", "interpolate", "correlate", "transfer", "analyses"])
def test_notebooks_are_committed_clean_with_one_parameters_cell(name):
    nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
    assert (
        nb["metadata"]["kernelspec"]["name"] == "python3"
    )  # the rest as JupyterLab saves it: test_notebooks_tidy
    assert nb["metadata"]["language_info"]["name"] == "python"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0]
    source = "".join(tagged[0]["source"])
    if name == "analyses":
        assert 'profile_dir = "reports/default"' in source
    elif name == "reference":  # upstream of interpolate: it receives nothing
        assert "out_dir = None" in source and "training.setup(" in _run_code(name, code)
    else:
        assert "out_dir = None" in source and "checkpoints = []" in source
        assert "training.setup(" in _run_code(name, code)


def _run_code(name: str, code: list[dict]) -> str:
    """What a run notebook executes: its code cells and, where it calls its experiment's
    `main(...)`, that module's source."""
    import importlib
    import inspect

    text = "".join("".join(c["source"]) for c in code)
    if f"from aestudy.experiments.{name}.main import main" in text:
        text += inspect.getsource(importlib.import_module(f"aestudy.experiments.{name}.main"))
    return text


@pytest.mark.slow
def test_every_executed_run_notebook_shows_its_figures_and_no_progress_bar(smoke):
    """A user opening an executed run notebook in JupyterLab sees each figure the run saved (the
    autoencode notebook's loss curves and reconstructions were saved but never shown) and no
    stderr stream of a progress bar the runner already shows on its console."""
    for nb_path in (smoke["dir"] / "runs").glob("*/*/*.ipynb"):
        nb = json.loads(nb_path.read_text())
        outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
        images = sum("image/png" in o.get("data", {}) for o in outputs)
        saved = len(list(nb_path.parent.glob("*.png")))
        assert images >= saved, (nb_path, images, saved)
        stderr = [o for o in outputs if o.get("name") == "stderr" and "".join(o["text"]).strip()]
        assert not any("batch/s" in "".join(o["text"]) or "it/s" in "".join(o["text"]) for o in stderr), (
            nb_path
        )


@pytest.mark.slow
def test_correlate_encodes_only_images_the_autoencoders_trained_on(smoke):
    """The autoencoders hold `val_size` training images out; their checkpoints record it, and
    correlate draws from the rest, so "their own training images" is true with train_size None too."""
    from aestudy.science import artifacts

    ckpt = next((smoke["dir"] / "runs" / "autoencode").glob("*/model.pt"))
    assert artifacts.load_checkpoint(ckpt)["val_size"] == 1000
    (cfg, _), *_ = artifacts.load_models([ckpt])
    assert cfg["val_size"] == 1000
    text = _outputs_text(smoke["dir"] / "runs" / "correlate" / "all" / "correlate.ipynb")
    assert "of their 300 training images encoded" in text
