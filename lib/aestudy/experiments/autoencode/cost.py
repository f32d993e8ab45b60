"""What an autoencode run costs relative to its siblings, from its parameters alone: the runner's
ETA (`runner.eta`) scales the seconds of the runs it has seen by a power of it, so that a
num_conv = 3 model (about 17 times a num_conv = 1 model's arithmetic) has an expected cost before
any of them has finished. Torch-free, and no run imports it: a change here stales no run."""

from __future__ import annotations

from ...architecture import AEConfig, channels, feature_sizes

UNIT = "forward multiply-accumulates of training"  # a stage whose cost model shares it is costed beside these


def encoder_macs_per_image(cfg: AEConfig) -> int:
    """Multiply-accumulates of the encoder's forward pass on one image: the stride-2 convolutions and
    its fully connected layers (the decoder mirrors it: `macs_per_image`)."""
    sizes = feature_sizes(cfg.num_conv, cfg.kernel_size)
    chans = channels(cfg)
    k2 = cfg.kernel_size**2
    conv = sum(
        chans[i] * chans[i + 1] * k2 * sizes[i + 1] ** 2 for i in range(cfg.num_conv)
    )  # each output position of layer i+1 reads a k x k window of layer i
    flat = chans[-1] * sizes[-1] ** 2
    return conv + flat * cfg.fc_hidden + cfg.fc_hidden * cfg.latent_dim


def macs_per_image(cfg: AEConfig) -> int:
    """Multiply-accumulates of one forward pass: the encoder and the decoder that mirrors it (a
    backward pass costs about twice a forward one, the same factor for every model)."""
    return 2 * encoder_macs_per_image(cfg)


def relative_cost(params: dict) -> float | None:
    """Multiply-accumulates of the run's training (per image, times epochs and training images);
    None where its parameters do not say (the ETA then falls back on its siblings' seconds)."""
    try:
        cfg = AEConfig.from_params(params)
        images = int(params.get("train_size") or 60000) * int(params.get("epochs", 1))
        return float(macs_per_image(cfg) * images)
    except (TypeError, ValueError):
        return None
