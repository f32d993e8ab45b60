"""lib.models: the study's autoencoder (encoder, mirrored decoder) and the classifier head."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from aestudy.science import models
from aestudy.science.models import AEConfig, AutoEncoder, Classifier, Encoder

LATENT_DIMS = (5, 10, 15, 20)
NUM_CONVS = (1, 2, 3)
GRID = list(itertools.product(LATENT_DIMS, NUM_CONVS))
BATCH = 3


@pytest.fixture(scope="module")
def grid_models() -> dict:
    """Each autoencoder of the study's sweep (c_factor 8, kernel 3), built once."""
    torch.manual_seed(0)
    return {(d, nc): AutoEncoder(AEConfig(latent_dim=d, num_conv=nc, c_factor=8)).eval() for d, nc in GRID}


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return torch.rand(BATCH, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("d,nc", GRID, ids=[f"d{d}-nc{nc}" for d, nc in GRID])
def test_grid_model_output_shape_and_range(grid_models, batch, d, nc):
    model = grid_models[(d, nc)]
    with torch.no_grad():
        z = model.encoder(batch)
        y = model(batch)
    assert z.shape == (BATCH, d)
    assert y.shape == (BATCH, 1, 28, 28)
    assert y.dtype == torch.float32
    assert torch.isfinite(y).all()
    assert y.min() >= 0 and y.max() <= 1


@pytest.mark.parametrize("nc", NUM_CONVS)
def test_encoder_channels_and_feature_sizes(grid_models, batch, nc):
    enc = grid_models[(10, nc)].encoder
    convs = [m for m in enc.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 64, 512][:nc]
    assert [c.in_channels for c in convs] == [1, 8, 64][:nc]
    assert all(c.stride == (2, 2) and c.kernel_size == (3, 3) for c in convs)
    # no pooling: the stride-2 convolutions do the down-sampling
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in enc.modules())
    sizes = []
    hooks = [c.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[1:]))) for c in convs]
    try:
        with torch.no_grad():
            enc(batch)
    finally:
        for h in hooks:
            h.remove()
    expected_hw = [14, 7, 4][:nc]
    assert sizes == [(c, s, s) for c, s in zip([8, 64, 512], expected_hw)]
    assert enc.sizes == [28, 14, 7, 4][: nc + 1]
    assert models.feature_sizes(3, 3) == [28, 14, 7, 4]


def test_encoder_fc_layers(grid_models):
    enc = grid_models[(15, 3)].encoder
    linears = [m for m in enc.modules() if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(512 * 4 * 4, 256), (256, 15)]
    # ReLU after the hidden FC layer, none on the latent: the last module is the Linear
    assert isinstance(list(enc.fc)[-1], nn.Linear)


def _record_shapes(modules, x, forward):
    shapes = []
    hooks = [
        m.register_forward_hook(lambda mod, i, o: shapes.append((tuple(i[0].shape[1:]), tuple(o.shape[1:]))))
        for m in modules
    ]
    try:
        with torch.no_grad():
            forward(x)
    finally:
        for h in hooks:
            h.remove()
    return shapes


@pytest.mark.parametrize("nc", NUM_CONVS)
def test_decoder_mirrors_encoder(grid_models, batch, nc):
    model = grid_models[(20, nc)]
    convs = [m for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    deconvs = [m for m in model.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(deconvs) == len(convs) == nc
    assert [(m.out_channels, m.in_channels) for m in deconvs] == [
        (m.in_channels, m.out_channels) for m in reversed(convs)
    ]
    assert [m.kernel_size for m in deconvs] == [m.kernel_size for m in reversed(convs)]
    assert [m.stride for m in deconvs] == [m.stride for m in reversed(convs)]

    enc_shapes = _record_shapes(convs, batch, model.encoder)  # (input, output) per conv
    dec_shapes = _record_shapes(deconvs, model.encoder(batch).detach(), model.decoder)
    # every decoder layer maps the encoder layer's output back to its input
    assert dec_shapes == [(o, i) for i, o in reversed(enc_shapes)]
    # intermediate feature maps of the decoder = the encoder's, reversed
    enc_maps = [i for i, _ in enc_shapes] + [enc_shapes[-1][1]]
    dec_maps = [dec_shapes[0][0]] + [o for _, o in dec_shapes]
    assert dec_maps == enc_maps[::-1]
    assert dec_maps[-1] == (1, 28, 28)

    # FC part mirrors too: d -> hidden -> flat
    enc_fc = [(l.in_features, l.out_features) for l in model.encoder.modules() if isinstance(l, nn.Linear)]
    dec_fc = [(l.in_features, l.out_features) for l in model.decoder.modules() if isinstance(l, nn.Linear)]
    assert dec_fc == [(o, i) for i, o in reversed(enc_fc)]
    # ReLU between transposed convolutions, Sigmoid on the output
    acts = [m for m in model.decoder.deconv if not isinstance(m, nn.ConvTranspose2d)]
    assert all(isinstance(a, nn.ReLU) for a in acts[:-1]) and isinstance(acts[-1], nn.Sigmoid)


@pytest.mark.parametrize("k", [1, 5])
def test_other_odd_kernels_still_mirror(k):
    torch.manual_seed(0)
    model = AutoEncoder(AEConfig(latent_dim=4, num_conv=3, c_factor=2, kernel_size=k, fc_hidden=8))
    with torch.no_grad():
        y = model(torch.rand(2, 1, 28, 28))
    assert y.shape == (2, 1, 28, 28)


@pytest.mark.parametrize(
    "field,value",
    [
        ("num_conv", 6),  # 28 -> 14 -> 7 -> 4 -> 2 -> 1 -> 1: the 6th layer no longer shrinks
        ("num_conv", 50),
        ("kernel_size", 4),
        ("kernel_size", 2),
        ("c_factor", 0),
        ("latent_dim", 0),
        ("num_conv", 0),
        ("fc_hidden", -1),
    ],
)
def test_invalid_config_raises_naming_parameter(field, value):
    cfg = AEConfig(**{field: value})
    with pytest.raises(ValueError, match=field):
        models.check_config(cfg)
    with pytest.raises(ValueError, match=field):
        AutoEncoder(cfg)


def test_max_num_conv_is_accepted():
    limit = models.max_num_conv(3)
    assert limit == 5
    models.check_config(AEConfig(num_conv=limit, c_factor=1))


@pytest.mark.parametrize("h1", [200, 650, 1000])
def test_classifier_head_shapes(h1):
    torch.manual_seed(0)
    enc = Encoder(AEConfig(latent_dim=7, num_conv=2, c_factor=4, fc_hidden=16))
    clf = Classifier(enc, h1)
    linears = [m for m in clf.head if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(7, h1), (h1, 100), (100, 10)]
    assert [type(m) for m in clf.head] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert clf.encoder is enc
    with torch.no_grad():
        logits = clf(torch.rand(4, 1, 28, 28))
    assert logits.shape == (4, 10)


def test_num_parameters_counts_everything():
    model = AutoEncoder(AEConfig(latent_dim=3, num_conv=1, c_factor=2, fc_hidden=4))
    # conv 1->2 (3x3) + fc 2*14*14->4 -> 3 ; decoder fc 3->4 -> 392 ; deconv 2->1 (3x3)
    expected = (1 * 2 * 9 + 2) + (392 * 4 + 4) + (4 * 3 + 3) + (3 * 4 + 4) + (4 * 392 + 392) + (2 * 1 * 9 + 1)
    assert models.num_parameters(model) == expected


def test_aeconfig_is_built_by_keyword_from_a_stage_s_parameters():
    from aestudy.experiments.autoencode.params import AutoencodeParams

    params = AutoencodeParams(latent_dim=7, num_conv=3, fc_hidden=64).model_dump()
    cfg = models.AEConfig.from_params(params)  # other parameters (lr, seed, ...) are ignored
    assert (cfg.latent_dim, cfg.num_conv, cfg.fc_hidden, cfg.c_factor) == (7, 3, 64, 8)
    # every architecture field is a parameter of the stage: a new field needs its parameter too
    assert set(cfg.to_dict()) <= set(AutoencodeParams.model_fields)


def test_models_are_named_by_the_run_that_trained_them_so_two_stages_never_collide(tmp_path):
    """A checkpoint written in a run folder records its run ('autoencode/d10-nc2-s0') with no
    argument saying so, and that is its name in metrics: a second stage's model of the same d,
    num_conv and seed gets its own; outside a profile (JupyterLab) none; a given `run` wins."""
    from aestudy.science import artifacts

    cfg = AEConfig(latent_dim=4, num_conv=1, c_factor=2, fc_hidden=8)
    runs = tmp_path / "reports" / "default" / "runs"
    paths = []
    for stage in ("autoencode", "denoise"):
        run_dir = runs / stage / "d4-nc1-s0"
        paths.append(artifacts.save_checkpoint(run_dir / "model.pt", AutoEncoder(cfg), cfg.to_dict(), seed=0))
    lab = artifacts.save_checkpoint(tmp_path / "lab" / "model.pt", AutoEncoder(cfg), cfg.to_dict(), seed=0)
    named = artifacts.save_checkpoint(
        runs / "autoencode" / "d4-nc1-s1" / "model.pt",
        AutoEncoder(cfg),
        cfg.to_dict(),
        seed=1,
        run="elsewhere/m1",
    )
    names = sorted(artifacts.model_key(c) for c, _ in artifacts.load_models([*paths, lab, named]))
    assert names == ["autoencode/d4-nc1-s0", "d4-nc1-s0", "denoise/d4-nc1-s0", "elsewhere/m1"]


def test_the_decoder_can_start_at_the_images_mean_pixel_without_drawing_a_random_number():
    """`start_output_at_mean`: the untrained decoder draws the training images' mean brightness
    (its last bias at the mean pixel's logit), every other weight and the global generator as
    PyTorch left them, so a seed's initialisation is otherwise unchanged."""
    torch.manual_seed(0)
    model = AutoEncoder(AEConfig(latent_dim=3, num_conv=2, c_factor=2, fc_hidden=8))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(1)) ** 6  # dark, as MNIST is
    rng = torch.get_rng_state()
    models.start_output_at_mean(model, images)
    assert torch.equal(torch.get_rng_state(), rng)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed == ["decoder.deconv.2.bias"]
    assert torch.sigmoid(model.decoder.deconv[2].bias).item() == pytest.approx(images.mean().item(), rel=1e-5)
    with torch.no_grad():  # the untrained output's brightness is now near the images', not near 0.5
        assert abs(model(images).mean() - images.mean()) < abs(0.5 - images.mean()) / 5


def test_a_decoder_without_a_sigmoid_at_the_end_is_refused():
    model = AutoEncoder(AEConfig(latent_dim=3, num_conv=1, c_factor=2, fc_hidden=8))
    model.decoder.deconv[-1] = nn.Identity()
    with pytest.raises(ValueError, match="Sigmoid"):
        models.start_output_at_mean(model, torch.rand(4, 1, 28, 28))
