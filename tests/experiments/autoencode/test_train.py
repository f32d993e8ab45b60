"""lib.train and lib.artifacts' checkpoints: learning, determinism, optimisers, freezing."""

from __future__ import annotations

import pytest
import torch

from aestudy.experiments.autoencode import run as train
from aestudy.runner import records
from aestudy.science import artifacts
from aestudy.science.models import AEConfig, AutoEncoder, Classifier

SMALL = AEConfig(latent_dim=4, num_conv=2, c_factor=4, kernel_size=3, fc_hidden=32)


def _images(n: int, seed: int) -> torch.Tensor:
    """Images with structure (random bright rectangles on black), values in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 28, 28)
    for i in range(n):
        r, c = torch.randint(0, 18, (2,), generator=g).tolist()
        x[i, 0, r : r + 10, c : c + 8] = 0.5 + 0.5 * torch.rand(1, generator=g).item()
    return x


TRAIN_X, TEST_X = _images(96, 0), _images(32, 1)


def _train(seed: int = 0, optimizer: str = "adam", epochs: int = 2, lr: float = 3e-3):
    train.setup(seed)
    model = AutoEncoder(SMALL)
    hist = train.run(
        model,
        TRAIN_X,
        TEST_X,
        epochs=epochs,
        batch_size=32,
        optimizer=optimizer,
        lr=lr,
        seed=seed,
        device="cpu",
        progress=False,
    )
    return model, hist


def _numbers(hist: dict) -> dict:
    return {k: v for k, v in hist.items() if k != "train_seconds"}  # wall time is not a result


def test_training_lowers_reconstruction_loss_on_fixed_batch():
    train.setup(0)
    model = AutoEncoder(SMALL)
    before = train.reconstruction_error(model, TRAIN_X)
    hist = train.run(
        model, TRAIN_X, TEST_X, epochs=4, batch_size=32, lr=3e-3, seed=0, device="cpu", progress=False
    )
    after = train.reconstruction_error(model, TRAIN_X)
    assert after < 0.8 * before
    assert hist["epoch"] == [1, 2, 3, 4]
    assert len(hist["train_error"]) == len(hist["test_error"]) == 4
    assert hist["test_error"][-1] < hist["test_error"][0]
    assert hist["train_seconds"] > 0
    # reconstruction_error is the mean squared error per pixel
    with torch.no_grad():
        direct = torch.mean((model(TEST_X) - TEST_X) ** 2).item()
    assert train.reconstruction_error(model, TEST_X, batch_size=7) == pytest.approx(direct, rel=1e-5)
    assert hist["test_error"][-1] == pytest.approx(direct, rel=1e-5)


def test_same_seed_same_numbers_other_seed_different():
    m1, h1 = _train(seed=0)
    m2, h2 = _train(seed=0)
    m3, h3 = _train(seed=1)
    assert _numbers(h1) == _numbers(h2)
    s1, s2, s3 = m1.state_dict(), m2.state_dict(), m3.state_dict()
    assert s1.keys() == s2.keys()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert _numbers(h1) != _numbers(h3)
    assert not all(torch.equal(s1[k], s3[k]) for k in s1)


@pytest.mark.parametrize("optimizer,lr", [("adam", 3e-3), ("sgd", 0.5)])
def test_both_optimizers_train(optimizer, lr):
    train.setup(0)
    model = AutoEncoder(SMALL)
    before = train.reconstruction_error(model, TRAIN_X)
    hist = train.run(
        model,
        TRAIN_X,
        TEST_X,
        epochs=3,
        batch_size=32,
        optimizer=optimizer,
        lr=lr,
        seed=0,
        device="cpu",
        progress=False,
    )
    assert hist["train_error"][-1] < before
    assert all(torch.isfinite(torch.tensor(hist["test_error"])))


def test_make_optimizer_kinds():
    params = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(train.make_optimizer("adam", params, 1e-3), torch.optim.Adam)
    assert isinstance(train.make_optimizer("sgd", params, 1e-3), torch.optim.SGD)


@pytest.mark.parametrize("name", ["rmsprop", "Adam", ""])
def test_unknown_optimizer_raises(name):
    with pytest.raises(ValueError, match="optimizer"):
        train.make_optimizer(name, [torch.nn.Parameter(torch.zeros(1))], 1e-3)
    with pytest.raises(ValueError, match="optimizer"):
        train.run(
            AutoEncoder(SMALL),
            TRAIN_X[:4],
            TEST_X[:4],
            epochs=1,
            optimizer=name,
            device="cpu",
            progress=False,
        )


def test_pick_device():
    if torch.cuda.is_available() or (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        pytest.skip("an accelerator is present: auto does not pick the CPU here")
    assert train.pick_device("auto") == torch.device("cpu")
    assert train.pick_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    ("device", "gpus", "says"),
    [
        ("cuda:9", 1, "device: cuda:9: this machine has 1 CUDA device (cuda:0)"),
        ("cuda:2", 2, "device: cuda:2: this machine has 2 CUDA devices (cuda:0 to cuda:1)"),
        ("cuda", 0, "device: cuda: this machine has no CUDA device"),
    ],
)
def test_a_device_this_machine_lacks_is_one_line_naming_the_field_before_any_work(
    monkeypatch, device, gpus, says
):
    from aestudy.errors import BAD_INPUT
    from aestudy.science import training

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    with pytest.raises(training.DeviceMissing) as err:
        training.pick_device(device)
    assert str(err.value).startswith(says) and "set `device: auto`" in str(err.value)
    assert err.value.exit_code == BAD_INPUT


def test_a_device_this_machine_has_is_taken_as_named(monkeypatch):
    from aestudy.science import training

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert training.pick_device("cuda:1") == torch.device("cuda:1")
    assert training.pick_device("cuda") == torch.device("cuda")


def test_batches_cover_everything_once():
    g = torch.Generator().manual_seed(0)
    parts = train.batches(10, 3, g)
    assert [len(p) for p in parts] == [3, 3, 3, 1]
    assert sorted(torch.cat(parts).tolist()) == list(range(10))
    assert torch.equal(torch.cat(train.batches(5, 2)), torch.arange(5))


# ---------------------------------------------------------------- classifier

LABELS = torch.arange(40) % 10


def _classifier(seed=0):
    train.setup(seed)
    return Classifier(AutoEncoder(SMALL).encoder, h1=16)


def test_checkpoint_round_trip(tmp_path):
    train.setup(3)
    model = AutoEncoder(SMALL)
    path = artifacts.save_checkpoint(tmp_path / "run" / "model.pt", model, SMALL.to_dict(), dataset="mnist")
    ckpt = artifacts.load_checkpoint(path)
    assert ckpt["config"] == SMALL.to_dict() and ckpt["dataset"] == "mnist"
    loaded = artifacts.load_autoencoder(path)
    assert loaded.cfg == SMALL
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with torch.no_grad():
        assert torch.equal(model.eval()(TEST_X[:4]), loaded.eval()(TEST_X[:4]))
    assert not list(path.parent.glob("*.tmp"))  # atomic write leaves no temporary file


def test_checkpoint_loads_with_weights_only(tmp_path, monkeypatch):
    path = artifacts.save_checkpoint(tmp_path / "model.pt", AutoEncoder(SMALL), SMALL.to_dict())
    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    artifacts.load_autoencoder(path)
    assert seen == [True]


def test_truncated_or_foreign_checkpoint_raises(tmp_path):
    path = artifacts.save_checkpoint(tmp_path / "model.pt", AutoEncoder(SMALL), SMALL.to_dict())
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(artifacts.CorruptArtifact, match="model.pt"):
        artifacts.load_autoencoder(path)
    path.write_bytes(b"")
    with pytest.raises(artifacts.CorruptArtifact):
        artifacts.load_checkpoint(path)
    with pytest.raises(artifacts.CorruptArtifact, match="missing"):
        artifacts.load_checkpoint(tmp_path / "absent.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(artifacts.CorruptArtifact, match="config and state_dict"):
        artifacts.load_checkpoint(tmp_path / "other.pt")


def test_completion_record_detects_changed_artifact(tmp_path):
    artifacts.write_json(tmp_path / "metrics.json", {"x": torch.tensor(1.5)})
    artifacts.atomic_write_bytes(tmp_path / "fig.png", b"png")
    records.write_completion(tmp_path, {"status": "ok", "key": "k"})
    record, reason = records.verify_completion(tmp_path)
    assert reason == "" and set(record["artifacts"]) == {"metrics.json", "fig.png"}
    assert artifacts.read_json(tmp_path / "metrics.json") == {"x": 1.5}
    (tmp_path / "fig.png").write_bytes(b"pn")
    record, reason = records.verify_completion(tmp_path)
    assert record is None and "checksum mismatch" in reason


def test_the_warmup_raises_the_learning_rate_linearly_then_holds_it(monkeypatch):
    seen = []
    real = train.make_optimizer

    def recording(name, params, lr, **kwargs):
        opt = real(name, params, lr, **kwargs)
        step = opt.step
        opt.step = lambda *a, **k: (seen.append(opt.param_groups[0]["lr"]), step(*a, **k))[1]
        return opt

    monkeypatch.setattr(train, "make_optimizer", recording)
    train.setup(0)
    epochs_seen = []
    train.run(
        AutoEncoder(SMALL),
        TRAIN_X,
        TEST_X,
        epochs=2,
        batch_size=32,
        lr=4e-3,
        seed=0,
        device="cpu",
        progress=False,
        warmup_steps=4,
        on_epoch=lambda model, epoch: epochs_seen.append(epoch),
    )
    assert seen == pytest.approx([1e-3, 2e-3, 3e-3, 4e-3, 4e-3, 4e-3])  # 2 epochs x 3 batches
    assert epochs_seen == [1, 2]


def test_without_warmup_training_is_unchanged_by_the_option():
    model_a, hist_a = _train(seed=2)
    train.setup(2)
    model_b = AutoEncoder(SMALL)
    hist_b = train.run(
        model_b,
        TRAIN_X,
        TEST_X,
        epochs=2,
        batch_size=32,
        lr=3e-3,
        seed=2,
        device="cpu",
        progress=False,
        warmup_steps=0,
    )
    assert _numbers(hist_a) == _numbers(hist_b)


def test_bfloat16_autocast_trains_close_to_float32_and_is_seeded():
    """`precision: bfloat16` (the default profile's lever) trains under autocast: the same seed gives
    the same numbers, the error stays close to float32's, and float32 is the unchanged default."""
    out = {}
    for precision in ("float32", "bfloat16", "bfloat16"):
        train.setup(0)
        model = AutoEncoder(SMALL)
        h = train.run(
            model,
            TRAIN_X,
            TEST_X,
            epochs=2,
            batch_size=16,
            lr=3e-3,
            seed=0,
            device="cpu",
            progress=False,
            precision=precision,
        )
        out.setdefault(precision, []).append(h["test_error"][-1])
        assert all(p.dtype == torch.float32 for p in model.parameters())
    fp32, (bf_a, bf_b) = out["float32"][0], out["bfloat16"]
    assert bf_a == bf_b and bf_a != fp32
    assert abs(bf_a - fp32) < 0.05 * fp32
    with pytest.raises(ValueError, match="precision must be one of"):
        train.run(
            AutoEncoder(SMALL), TRAIN_X, TEST_X, epochs=1, device="cpu", progress=False, precision="float16"
        )


def test_cosine_schedule_warms_up_then_decays_to_zero_and_constant_keeps_the_rate():
    from aestudy.experiments.autoencode.run import learning_rate

    assert learning_rate(0, 1e-3, warmup_steps=10, total_steps=100, schedule="cosine") == pytest.approx(1e-4)
    assert learning_rate(9, 1e-3, warmup_steps=10, total_steps=100, schedule="cosine") == pytest.approx(1e-3)
    assert learning_rate(10, 1e-3, warmup_steps=10, total_steps=100, schedule="cosine") == pytest.approx(1e-3)
    assert learning_rate(55, 1e-3, warmup_steps=10, total_steps=100, schedule="cosine") == pytest.approx(5e-4)
    assert learning_rate(100, 1e-3, warmup_steps=10, total_steps=100, schedule="cosine") == pytest.approx(0.0)
    assert learning_rate(99, 1e-3, warmup_steps=10, total_steps=100, schedule="constant") == 1e-3
    with pytest.raises(ValueError, match="schedule"):
        learning_rate(0, 1e-3, schedule="onecycle")


def test_validation_error_is_measured_after_every_epoch_on_the_images_given():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28)
    model = AutoEncoder(AEConfig(latent_dim=4, num_conv=1, c_factor=2, fc_hidden=8))
    h = train.run(
        model, images[:48], images[48:56], epochs=2, batch_size=16, progress=False, val_images=images[56:]
    )
    assert len(h["val_error"]) == 2
    assert h["val_error"][-1] == pytest.approx(train.reconstruction_error(model, images[56:]))


def test_the_progress_bar_shows_in_jupyterlab_and_not_under_the_runner(monkeypatch, capsys):
    """Under the runner (AESTUDY_PROGRESS set) its console shows the run's progress, so the run's
    own tqdm bar would only fill the executed notebook with stderr lines; in JupyterLab it shows."""
    from aestudy import progress_file

    monkeypatch.delenv(progress_file.ENV, raising=False)
    assert not progress_file.active()
    train.setup(0)
    train.run(AutoEncoder(SMALL), TRAIN_X, TEST_X, epochs=1, batch_size=32)
    assert "train" in capsys.readouterr().err
    monkeypatch.setenv(progress_file.ENV, "/nonexistent/progress.json")  # writes fail quietly
    assert progress_file.active()
    seen = []
    monkeypatch.setattr(progress_file, "report", lambda done, total, unit: seen.append((done, total, unit)))
    train.run(AutoEncoder(SMALL), TRAIN_X, TEST_X, epochs=2, batch_size=32)
    assert capsys.readouterr().err == ""
    batches = -(-len(TRAIN_X) // 32)  # the runner hears epochs: 'epoch 1.5/2', not batches
    assert seen == [(b / batches, 2.0, "epoch") for b in range(1, 2 * batches + 1)]


def test_the_loss_curves_name_what_each_line_measures():
    """The train line is a running mean taken while the weights change, the test line was measured
    on a subset before the last epoch, and the validation error (convergence) has its own line."""
    import matplotlib

    matplotlib.use("Agg")
    from aestudy.experiments.autoencode import plots

    history = {
        "epoch": [1, 2],
        "train_error": [0.2, 0.1],
        "test_error": [0.15, 0.09],
        "val_error": [0.14, 0.09],
    }
    labels = [
        t.get_text() for t in plots.loss_curves(history, "d=10", test_subset=2000).axes[0].get_legend().texts
    ]
    assert labels == [
        "train (running mean over the epoch)",
        "validation (held-out training images)",
        "test (2,000 images before the last epoch)",
    ]
    # one epoch: its errors as labelled bars, not three lone points on an epoch axis
    one = {"epoch": [1], "train_error": [0.2], "test_error": [0.15], "val_error": [0.14]}
    ax = plots.loss_curves(one, "d=10", test_subset=2000).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["train\n(running mean)", "validation", "test"]
    assert [b.get_height() for b in ax.patches] == [0.2, 0.14, 0.15]
    assert [t.get_text() for t in ax.texts] == ["0.2000", "0.1400", "0.1500"]
    assert ax.get_title() == "d=10 (after its one epoch)"


def test_auto_precision_is_bfloat16_only_where_the_hardware_has_bf16_units(monkeypatch):
    """On an AVX2-only CPU bfloat16 autocast trained 16-34x slower than float32: `auto` keeps it
    to a CPU with avx512_bf16 or AMX (or a GPU that supports it), and the autocast follows."""
    from aestudy.science import steps, training

    for native, expected in ((True, "bfloat16"), (False, "float32")):
        monkeypatch.setattr(training, "native_bf16", lambda device, native=native: native)
        assert training.resolved_precision("auto", "cpu") == expected
        assert training.resolved_precision("float32", "cpu") == "float32"
        assert training.resolved_precision("bfloat16", "cpu") == "bfloat16"
        with steps.autocast_for(torch.device("cpu"), "auto")():
            assert torch.is_autocast_enabled("cpu") == native
        with training.precision("auto", "cpu"):
            assert torch.is_autocast_enabled("cpu") == native
    with pytest.raises(ValueError, match="precision must be one of"):
        training.resolved_precision("float16", "cpu")


def test_the_report_says_what_auto_precision_became_on_the_runs_hardware(tmp_path):
    import pandas as pd

    from aestudy.experiments.autoencode.choices import precision_words
    from aestudy.files import write_json
    from aestudy.report.profile import ProfileData

    data = ProfileData(
        tmp_path, tables={"autoencode": pd.DataFrame({"run_id": ["a", "b"], "status": ["ok", "ok"]})}
    )
    for run_id in ("a", "b"):
        (tmp_path / "runs" / "autoencode" / run_id).mkdir(parents=True)
        write_json(tmp_path / "runs" / "autoencode" / run_id / "resources.json", {"precision": "float32"})
    assert precision_words(data, "autoencode", "auto") == "auto (float32 on these runs' hardware)"
    assert precision_words(data, "autoencode", "bfloat16") == "bfloat16"
    assert precision_words(data, "transfer", "auto") == "auto"  # no runs: nothing is claimed
