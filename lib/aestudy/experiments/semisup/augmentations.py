"""The strong augmentation of the semi-supervised recipe's unlabelled images (its `strong` and
`elastic` fields; `fit` trains with it).

- `strong`: "erase" (shifts of up to 4 pixels, rotations of up to 30 degrees, then a square of
  ERASE x ERASE pixels erased) or "rand", RandAugment-like for digits: a rotation of up to 30
  degrees and a shift of up to 4 pixels always, then each with probability 1/2 a shear of up to
  0.3, a scaling by 0.8-1.2, a stroke thickened or thinned (3 x 3 grey dilation or erosion), a
  contrast cut to 50-100 %; then the square erased.
- `elastic` > 0: an elastic distortion before the square is erased (Simard et al. 2003): a smooth
  random displacement field (uniform noise on a 7 x 7 grid, bicubically interpolated) of at most
  about `elastic` pixels.

Two ways to the same images: `strong_augment(x, gen, ...)` draws its random numbers from `gen` as
it goes (a classifier trained alone, on the CPU); `strong_draws` draws the same numbers in the same
order up front and `strong_apply` does the arithmetic from them, so that a GPU step can be
replayed from a CUDA graph with the numbers copied in (`science.graphed`). Both call the same
functions of the drawn numbers (`rand_from`, `warp_from`, `erase_at`), so they agree exactly
(tests/test_graphed.py).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...science import graphed
from ...science.fitting import augment

ERASE = 10  # side of the square the strong augmentation erases (pixels)
KINDS = ("erase", "rand")


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"strong augmentation must be 'erase' or 'rand', got {kind!r}")


def strong_augment(
    x: torch.Tensor, gen: torch.Generator, kind: str = "erase", elastic: float = 0.0
) -> torch.Tensor:
    """The strong augmentation of the unlabelled images: `kind` "erase" or "rand", with an elastic
    distortion of `elastic` pixels (0: none), then a random square erased."""
    _check(kind)
    x = augment(x, gen, max_shift=4.0, max_degrees=30.0) if kind == "erase" else rand_augment(x, gen)
    if elastic > 0:
        x = elastic_warp(x, gen, elastic)
    return erase(x, gen)


def strong_draws(
    n: int, gen: torch.Generator, kind: str = "erase", elastic: float = 0.0, size: int = 28
) -> dict:
    """The random numbers `strong_augment` draws for n images, in its order (a dict of tensors)."""
    _check(kind)
    if kind == "erase":
        a, s = graphed.affine_draws(n, gen)
        out = {"strong_angle": a, "strong_shift": s}
    else:
        out = {"rand_u": torch.rand(n, 7, generator=gen), "rand_on": torch.rand(n, 4, generator=gen) < 0.5}
    if elastic > 0:
        out["elastic"] = torch.rand(n, 2, 7, 7, generator=gen)
    out["centre"] = torch.randint(0, size, (n, 2), generator=gen)
    return out


def strong_apply(x: torch.Tensor, d: dict, kind: str = "erase", elastic: float = 0.0) -> torch.Tensor:
    """`strong_augment`'s arithmetic from `strong_draws`'s numbers (tensors on x's device)."""
    if kind == "erase":
        x = graphed.affine(x, d["strong_angle"], d["strong_shift"], max_shift=4.0, max_degrees=30.0)
    else:
        x = rand_from(x, d["rand_u"], d["rand_on"])
    if elastic > 0:
        x = warp_from(x, d["elastic"], elastic)
    return erase_at(x, d["centre"])


def erase(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A random ERASE x ERASE square of every image set to 0."""
    return erase_at(x, torch.randint(0, x.shape[-1], (len(x), 2), generator=gen))


def erase_at(x: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """The square of side ERASE around each image's `centre` (row, column) set to 0."""
    centre = centre.to(x.device)
    grid = torch.arange(x.shape[-1], device=x.device)
    rows = (grid[None, :] - centre[:, :1]).abs() < ERASE // 2
    cols = (grid[None, :] - centre[:, 1:]).abs() < ERASE // 2
    keep = ~(rows[:, :, None] & cols[:, None, :])
    return x * keep[:, None].to(x.dtype)


def elastic_warp(x: torch.Tensor, gen: torch.Generator, pixels: float) -> torch.Tensor:
    """A smooth random displacement of at most about `pixels` pixels (see the module)."""
    return warp_from(x, torch.rand(len(x), 2, 7, 7, generator=gen), pixels)


def warp_from(x: torch.Tensor, u: torch.Tensor, pixels: float) -> torch.Tensor:
    """`elastic_warp`'s arithmetic from its drawn numbers (`u`: [n, 2, 7, 7] uniform on [0, 1))."""
    n, size = len(x), x.shape[-1]
    noise = (u * 2 - 1).to(x)
    field = nn.functional.interpolate(noise, size=(size, size), mode="bicubic", align_corners=True)
    eye = torch.eye(2, 3, dtype=x.dtype, device=x.device).expand(n, 2, 3)
    grid = nn.functional.affine_grid(eye, list(x.shape), align_corners=False)
    grid = grid + field.permute(0, 2, 3, 1) * (2 * pixels / size)
    return nn.functional.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def rand_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The "rand" strong augmentation before the erased square (see the module)."""
    n = len(x)
    u, on = torch.rand(n, 7, generator=gen), torch.rand(n, 4, generator=gen) < 0.5
    return rand_from(x, u, on)


def rand_from(x: torch.Tensor, u: torch.Tensor, on: torch.Tensor) -> torch.Tensor:
    """`rand_augment`'s arithmetic from its drawn numbers (`u`: 7 uniforms, `on`: 4 coin flips per
    image, on the host or on x's device): eager and graphed steps alike."""
    size = x.shape[-1]
    angle = (u[:, 0] * 2 - 1) * math.radians(30)
    shift = (u[:, 1:3] * 2 - 1) * (2 * 4.0 / size)
    shear = torch.where(on[:, 0], (u[:, 3] * 2 - 1) * 0.3, torch.zeros_like(u[:, 3]))
    scale = torch.where(on[:, 1], 0.8 + 0.4 * u[:, 4], torch.ones_like(u[:, 4]))
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack(
        [
            torch.stack([cos, cos * shear - sin, shift[:, 0]], 1),
            torch.stack([sin, sin * shear + cos, shift[:, 1]], 1),
        ],
        1,
    )
    grid = nn.functional.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    x = nn.functional.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    thick = nn.functional.max_pool2d(x, 3, 1, 1)
    thin = -nn.functional.max_pool2d(-x, 3, 1, 1)
    stroke = torch.where((u[:, 5] < 0.5).to(x.device)[:, None, None, None], thick, thin)
    x = torch.where(on[:, 2].to(x.device)[:, None, None, None], stroke, x)
    contrast = torch.where(on[:, 3], 0.5 + 0.5 * u[:, 6], torch.ones_like(u[:, 6])).to(x)
    return x * contrast[:, None, None, None]
