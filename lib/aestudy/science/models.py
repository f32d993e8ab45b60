"""The autoencoder of the study and the classifier head of the transfer experiment.

Encoder: `num_conv` stride-2 convolutions (no pooling), layer i with `c_factor ** i`
channels, ReLU after each; then flatten -> `fc_hidden` (ReLU) -> `latent_dim` (no
activation). The decoder is built from the encoder's own list of feature-map sizes, so it
is its mirror by construction: latent -> hidden -> flat (ReLU each), transposed
convolutions back to 1x28x28 with ReLU between them and a Sigmoid at the end.
"""

from __future__ import annotations

import torch
from torch import nn

from ..architecture import (  # noqa: F401 (torch-free, re-exported)
    IMAGE_CHANNELS,
    IMAGE_SIZE,
    AEConfig,
    channels,
    check_config,
    feature_sizes,
    max_num_conv,
)

ENCODER_HIDDEN = "encoder.fc.2"  # the ReLU after the encoder's hidden layer (its name in `dead_units`)


def layout(cfg: AEConfig) -> tuple[list[int], list[int]]:
    """Channels [1, c, c^2, ...] and spatial sizes [28, 14, ...] of the encoder's feature maps;
    the decoder walks the same lists backwards, which makes it the encoder's mirror."""
    check_config(cfg)
    return channels(cfg), feature_sizes(cfg.num_conv, cfg.kernel_size)


class Encoder(nn.Module):
    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg, self.channels, self.sizes = cfg, *layout(cfg)
        k, pad = cfg.kernel_size, cfg.kernel_size // 2
        layers: list[nn.Module] = []
        for c_in, c_out in zip(self.channels[:-1], self.channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, k, stride=2, padding=pad), nn.ReLU()]
        self.conv = nn.Sequential(*layers)
        self.flat_dim = self.channels[-1] * self.sizes[-1] ** 2
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self.flat_dim, cfg.fc_hidden),
            nn.ReLU(),
            nn.Linear(cfg.fc_hidden, cfg.latent_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x))


class Decoder(nn.Module):
    """Mirror of an Encoder: same channel and size lists, walked backwards."""

    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg, self.channels, self.sizes = cfg, *layout(cfg)
        k, pad = cfg.kernel_size, cfg.kernel_size // 2
        self.flat_shape = (self.channels[-1], self.sizes[-1], self.sizes[-1])
        flat_dim = self.channels[-1] * self.sizes[-1] ** 2
        self.fc = nn.Sequential(
            nn.Linear(cfg.latent_dim, cfg.fc_hidden), nn.ReLU(), nn.Linear(cfg.fc_hidden, flat_dim), nn.ReLU()
        )
        layers: list[nn.Module] = []
        n = cfg.num_conv
        for i in range(n, 0, -1):
            s_in, s_out = self.sizes[i], self.sizes[i - 1]
            out_pad = s_out - ((s_in - 1) * 2 - 2 * pad + k)
            layers.append(
                nn.ConvTranspose2d(
                    self.channels[i], self.channels[i - 1], k, stride=2, padding=pad, output_padding=out_pad
                )
            )
            layers.append(nn.ReLU() if i > 1 else nn.Sigmoid())
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(z).view(-1, *self.flat_shape))


class AutoEncoder(nn.Module):
    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@torch.no_grad()
def start_output_at_mean(model: AutoEncoder, images: torch.Tensor) -> None:
    """Set the bias of the decoder's last layer to the logit of `images`' mean pixel, so that the
    untrained decoder draws a uniform image of the training images' mean brightness rather than
    a mid-grey one. With PyTorch's default init the output starts near 0.5 against a mean pixel
    near 0.13, and Adam's first steps go to darkening the whole image: at the default profile's
    budget that start ended with a higher validation error in every (d, num_conv) cell tried
    (benchmarks/ae_fidelity.py --output-bias torch mean; "init well", Karpathy 2019). Draws no
    random number: the seed's initialisation is otherwise PyTorch's."""
    last = model.decoder.deconv[-2]
    if not isinstance(model.decoder.deconv[-1], nn.Sigmoid) or last.bias is None:
        raise ValueError("the decoder must end in a biased layer and a Sigmoid")
    mean = images.float().mean().clamp(1e-4, 1 - 1e-4)
    last.bias.fill_(float(torch.logit(mean)))


class Classifier(nn.Module):
    """Encoder + the MLP head of experiment 4: d -> h1 -> 100 -> 10 (ReLU between)."""

    def __init__(self, encoder: Encoder, h1: int, num_classes: int = 10):
        super().__init__()
        self.encoder = encoder
        d = encoder.cfg.latent_dim
        self.head = nn.Sequential(
            nn.Linear(d, h1), nn.ReLU(), nn.Linear(h1, 100), nn.ReLU(), nn.Linear(100, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def dead_units(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> dict[str, float]:
    """Per ReLU layer (by module name), the fraction of its units that are zero on every one of
    `images`: a unit dead on all inputs passes no gradient and never recovers. A convolutional
    layer's unit is a channel."""
    model.eval()
    peak: dict[str, torch.Tensor] = {}
    names = {m: n for n, m in model.named_modules() if isinstance(m, nn.ReLU)}

    def hook(module, _inputs, out):
        unit_max = out.amax(dim=(0, 2, 3)) if out.dim() == 4 else out.amax(dim=0)
        name = names[module]
        peak[name] = unit_max if name not in peak else torch.maximum(peak[name], unit_max)

    handles = [m.register_forward_hook(hook) for m in names]
    try:
        for i in range(0, len(images), batch_size):
            model(images[i : i + batch_size])
    finally:
        for h in handles:
            h.remove()
    return {name: float((p <= 0).float().mean()) for name, p in peak.items()}
