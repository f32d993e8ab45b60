"""The autoencoder of the study and the classifier head of the transfer experiment.

Encoder: `num_conv` stride-2 convolutions (no pooling), layer i with `c_factor ** i`
channels, ReLU after each; then flatten -> `fc_hidden` (ReLU) -> `latent_dim` (no
activation). The decoder is built from the encoder's own list of feature-map sizes, so it
is its mirror by construction: latent -> hidden -> flat (ReLU each), transposed
convolutions back to 1x28x28 with ReLU between them and a Sigmoid at the end.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

IMAGE_SIZE = 28
IMAGE_CHANNELS = 1
ENCODER_HIDDEN = "encoder.fc.2"   # the ReLU after the encoder's hidden layer (its name in `dead_units`)


@dataclass(frozen=True)
class AEConfig:
    """The autoencoder's architecture; its field names exist here only (built by keyword from a
    stage's parameters with `from_params`, checked by `check_config`, saved in checkpoints)."""
    latent_dim: int = 10   # d, the size of the code
    num_conv: int = 2      # stride-2 convolutions of the encoder (and transposed ones of the decoder)
    c_factor: int = 8      # conv layer i has c_factor ** i channels
    kernel_size: int = 3   # odd, so that padding kernel_size // 2 keeps the decoder a mirror
    fc_hidden: int = 256   # width of the hidden fully connected layer on both sides

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_params(cls, params) -> "AEConfig":
        """The architecture named by a mapping of parameters (a stage's validated values, a
        checkpoint's config): its fields by keyword, everything else ignored."""
        return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})


def feature_sizes(num_conv: int, kernel_size: int, image_size: int = IMAGE_SIZE) -> list[int]:
    """Spatial size after each stride-2 conv: [28, 14, 7, 4] for num_conv=3, kernel 3."""
    pad = kernel_size // 2
    sizes = [image_size]
    for _ in range(num_conv):
        sizes.append((sizes[-1] + 2 * pad - kernel_size) // 2 + 1)
    return sizes


def max_num_conv(kernel_size: int = 3, image_size: int = IMAGE_SIZE) -> int:
    """Largest num_conv for which every stride-2 layer still shrinks the image."""
    n = 0
    while n < 64:
        sizes = feature_sizes(n + 1, kernel_size, image_size)
        if not (1 <= sizes[-1] < sizes[-2]):
            break
        n += 1
    return n


def check_config(cfg: AEConfig) -> None:
    """Raise ValueError naming the parameter when `cfg` cannot build a mirrored autoencoder."""
    for name in (f.name for f in fields(cfg)):
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if cfg.kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd so that padding kernel_size//2 keeps the decoder a mirror "
            f"of the encoder, got {cfg.kernel_size}")
    limit = max_num_conv(cfg.kernel_size)
    if cfg.num_conv > limit:
        sizes = feature_sizes(cfg.num_conv, cfg.kernel_size)
        raise ValueError(
            f"num_conv={cfg.num_conv} is too many stride-2 layers for a {IMAGE_SIZE}x{IMAGE_SIZE} "
            f"image with kernel_size={cfg.kernel_size} (sizes {sizes}); at most {limit}")


def layout(cfg: AEConfig) -> tuple[list[int], list[int]]:
    """Channels [1, c, c^2, ...] and spatial sizes [28, 14, ...] of the encoder's feature maps;
    the decoder walks the same lists backwards, which makes it the encoder's mirror."""
    check_config(cfg)
    channels = [IMAGE_CHANNELS] + [cfg.c_factor ** i for i in range(1, cfg.num_conv + 1)]
    return channels, feature_sizes(cfg.num_conv, cfg.kernel_size)


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
            nn.Flatten(), nn.Linear(self.flat_dim, cfg.fc_hidden), nn.ReLU(),
            nn.Linear(cfg.fc_hidden, cfg.latent_dim))

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
            nn.Linear(cfg.latent_dim, cfg.fc_hidden), nn.ReLU(),
            nn.Linear(cfg.fc_hidden, flat_dim), nn.ReLU())
        layers: list[nn.Module] = []
        n = cfg.num_conv
        for i in range(n, 0, -1):
            s_in, s_out = self.sizes[i], self.sizes[i - 1]
            out_pad = s_out - ((s_in - 1) * 2 - 2 * pad + k)
            layers.append(nn.ConvTranspose2d(self.channels[i], self.channels[i - 1], k, stride=2,
                                             padding=pad, output_padding=out_pad))
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


class Classifier(nn.Module):
    """Encoder + the MLP head of experiment 4: d -> h1 -> 100 -> 10 (ReLU between)."""

    def __init__(self, encoder: Encoder, h1: int, num_classes: int = 10):
        super().__init__()
        self.encoder = encoder
        d = encoder.cfg.latent_dim
        self.head = nn.Sequential(nn.Linear(d, h1), nn.ReLU(), nn.Linear(h1, 100), nn.ReLU(),
                                  nn.Linear(100, num_classes))

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
            model(images[i:i + batch_size])
    finally:
        for h in handles:
            h.remove()
    return {name: float((p <= 0).float().mean()) for name, p in peak.items()}
