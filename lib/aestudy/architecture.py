"""The autoencoder's architecture as numbers: its configuration, the feature-map sizes it implies
and the rule that it can be built (`check_config`). Torch-free, so the parameter schema checks an
autoencode run's parameters without importing torch; `aestudy.science.models` builds the network."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

IMAGE_SIZE = 28
IMAGE_CHANNELS = 1


@dataclass(frozen=True)
class AEConfig:
    """The autoencoder's architecture; its field names exist here only (built by keyword from a
    stage's parameters with `from_params`, checked by `check_config`, saved in checkpoints)."""

    latent_dim: int = 10  # d, the size of the code
    num_conv: int = 2  # stride-2 convolutions of the encoder (and transposed ones of the decoder)
    c_factor: int = 8  # conv layer i has c_factor ** i channels
    kernel_size: int = 3  # odd, so that padding kernel_size // 2 keeps the decoder a mirror
    fc_hidden: int = 256  # width of the hidden fully connected layer on both sides

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_params(cls, params) -> AEConfig:
        """The architecture named by a mapping of parameters (a stage's validated values, a
        checkpoint's config): its fields by keyword, everything else ignored."""
        return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})


def channels(cfg: AEConfig) -> list[int]:
    """Channels of the image and of each stride-2 layer's output: [1, 8, 64] for num_conv=2, c_factor=8."""
    return [IMAGE_CHANNELS] + [cfg.c_factor**i for i in range(1, cfg.num_conv + 1)]


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
            f"of the encoder, got {cfg.kernel_size}"
        )
    limit = max_num_conv(cfg.kernel_size)
    if cfg.num_conv > limit:
        sizes = feature_sizes(limit + 1, cfg.kernel_size)  # up to the first layer that no longer shrinks
        raise ValueError(
            f"num_conv={cfg.num_conv} is too many stride-2 layers for a {IMAGE_SIZE}x{IMAGE_SIZE} "
            f"image with kernel_size={cfg.kernel_size} (sizes {sizes} with {limit + 1}); at most {limit}"
        )
