"""experiments.autoencode.main: the notebook's one call writes each model's run folder (the
stage's contract), prints its summary, and trains the seeds of a cell (`cell_runs`) into their
own folders with the numbers each gets alone. On fake MNIST, at toy size."""

from __future__ import annotations

import json

import pytest

from aestudy import metrics
from aestudy.experiments.autoencode import plots
from aestudy.experiments.autoencode.main import main
from aestudy.study import STAGES, check_parameters

TINY = dict(
    train_size=100,
    test_size=50,
    val_size=20,
    latent_dim=3,
    num_conv=1,
    c_factor=2,
    fc_hidden=16,
    epochs=2,
    batch_size=32,
    warmup_steps=2,
    device="cpu",
)


def _params(**changes) -> dict:
    """What the notebook's check cell returns for TINY with `changes` (the rest: defaults)."""
    return check_parameters("autoencode", {**TINY, **changes})


def _draw_figures(result) -> None:
    """The notebook's figure cells, on the fields of `result`."""
    for run in result.trained:
        plots.show(plots.loss_curves(run.history, run.title), run.out / "loss_curves.png")
        plots.show(
            plots.reconstructions(run.model, result.test_images, title=run.title),
            run.out / "reconstructions.png",
        )


def test_main_writes_a_run_folder_that_keeps_the_contract_and_prints_its_summary(
    fake_mnist, tmp_path, capsys
):
    result = main(_params(), out_dir=tmp_path / "run")
    _draw_figures(result)
    stage = STAGES["autoencode"]
    metrics.check_run(tmp_path / "run", stage.products, stage.metrics)
    (run,) = result.trained
    assert (run.seed, run.out, run.title) == (0, tmp_path / "run", "d=3, num_conv=1, seed=0")
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written == json.loads(json.dumps(run.metrics))  # what main returns is what it wrote
    assert len(written["history"]["val_error"]) == 2 and written["val_change"] is not None
    assert written["final_test_error"] == run.history["test_error"][-1]
    assert written["pca_test_error"] > 0 and written["mean_image_test_error"] > 0
    resources = json.loads((tmp_path / "run" / "resources.json").read_text())
    assert resources["models_trained_together"] == 1 and resources["precision"] == "float32"
    assert {"train_seconds", "cuda_graph_replays", "peak_rss_mb"} <= set(resources)
    printed = capsys.readouterr().out
    assert "100 train / 20 validation / 50 test images; " in printed and "28x28 → 14x14" in printed
    assert (
        f"seed 0: final test reconstruction error {written['final_test_error']:.5f} (PCA with d=3: "
        in printed
    )
    assert "% in the last epoch" in printed


def test_main_without_validation_images_records_none_and_prints_no_validation_error(
    fake_mnist, tmp_path, capsys
):
    result = main(_params(val_size=0, epochs=1), out_dir=tmp_path)
    (run,) = result.trained
    assert run.metrics["final_val_error"] is None and run.metrics["val_change"] is None
    assert "validation error" not in capsys.readouterr().out.split("seed 0:")[1]


def test_main_trains_the_cell_runs_seeds_into_their_own_folders_as_each_trains_alone(fake_mnist, tmp_path):
    """--seeds-together: the runner hands the further seeds of the cell in `cell_runs` (in
    params, as check_parameters returns them, or by keyword as the notebook passes them)."""
    cell = [{"seed": 1, "out_dir": str(tmp_path / "s1")}]
    together = main(_params(cell_runs=cell), out_dir=tmp_path / "s0")
    assert [(r.seed, r.out) for r in together.trained] == [(0, tmp_path / "s0"), (1, tmp_path / "s1")]
    for run in together.trained:
        resources = json.loads((run.out / "resources.json").read_text())
        assert resources["models_trained_together"] == 2
        assert (run.out / "model.pt").is_file()
        assert json.loads((run.out / "metrics.json").read_text()) == json.loads(json.dumps(run.metrics))
    stray = [{"seed": 2, "out_dir": str(tmp_path / "s2")}]
    alone = main(
        _params(seed=1, cell_runs=stray), cell_runs=[], out_dir=tmp_path / "alone"
    )  # the keyword wins
    assert not (tmp_path / "s2").exists()
    (one,) = alone.trained
    mate = together.trained[1]
    assert one.metrics["history"]["test_error"] == pytest.approx(
        mate.metrics["history"]["test_error"], rel=1e-4
    )
    assert one.metrics["pca_test_error"] == mate.metrics["pca_test_error"]


def test_the_output_bias_parameter_sets_where_the_untrained_decoder_starts(fake_mnist, tmp_path, monkeypatch):
    """output_bias 'mean' (the default) starts every model of the run at its training images' mean
    pixel, the seeds trained together included; 'torch' keeps PyTorch's init."""
    import torch

    from aestudy.science import models

    started, start = [], models.start_output_at_mean
    monkeypatch.setattr(models, "start_output_at_mean", lambda m, x: (started.append((m, x)), start(m, x))[1])
    p = _params(epochs=1, lr=1e-12, warmup_steps=0)  # a rate of 1e-12 leaves the start where it was
    assert p["output_bias"] == "mean"
    cell = [{"seed": 1, "out_dir": str(tmp_path / "m1")}]
    at_mean = main({**p, "cell_runs": cell}, out_dir=tmp_path / "m0")
    assert [m for m, _ in started] == [run.model for run in at_mean.trained]
    for model, images in started:  # the training images: train_size of them, not the validation or test ones
        assert len(images) == p["train_size"]
        start_at = torch.sigmoid(model.decoder.deconv[-2].bias).item()
        assert start_at == pytest.approx(images.mean().item(), rel=1e-4)
    started.clear()
    at_torch = main({**p, "output_bias": "torch"}, out_dir=tmp_path / "t0")
    assert not started
    (torch_run,) = at_torch.trained
    fan_in = torch_run.model.decoder.deconv[-2].weight.shape[1] * 9
    assert abs(torch_run.model.decoder.deconv[-2].bias.item()) <= 1 / fan_in**0.5 + 1e-6  # PyTorch's own


def test_seed_scope_cell_gives_each_cell_its_own_initialisation_and_shared_one_per_seed(fake_mnist, tmp_path):
    """seed_scope 'cell' (the default): the torch seed is drawn from (seed, d, num_conv), so two cells'
    models of one grid seed start from different convolutions (independent units); 'shared': the
    seed itself, so the same num_conv's convolutions start alike at every d (the block the
    over-seed analysis assumes). The grid seed is what the run records either way."""
    from aestudy.experiments.autoencode.main import torch_seed

    p = _params(epochs=1, lr=1e-12, warmup_steps=0)  # a rate of 1e-12 leaves the start where it was
    assert p["seed_scope"] == "cell"
    assert torch_seed(p, 0) != torch_seed({**p, "latent_dim": 4}, 0) != torch_seed(p, 1)
    assert torch_seed({**p, "seed_scope": "shared"}, 3) == 3

    def first_conv(**changes):
        (run,) = main({**p, **changes}, out_dir=tmp_path / str(len(list(tmp_path.iterdir())))).trained
        assert run.seed == p["seed"] == run.metrics.get("seed", run.seed)
        return next(run.model.encoder.parameters()).detach().clone()

    assert not first_conv().equal(first_conv(latent_dim=4))
    assert first_conv(seed_scope="shared").equal(first_conv(seed_scope="shared", latent_dim=4))
