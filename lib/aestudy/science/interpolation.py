"""Experiment 2: decode (1 - a) z1 + a z2 between the codes of two test images, for every model."""
from __future__ import annotations

import numpy as np
import torch

from .artifacts import model_label


def interpolate_latents(z1, z2, steps: int):
    """(1 - a) z1 + a z2 for `steps` values of a from 0 to 1 (exactly z1 and z2 at the ends)."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    a = torch.linspace(0.0, 1.0, steps, dtype=z1.dtype, device=z1.device).unsqueeze(1)
    return (1 - a) * z1.unsqueeze(0) + a * z2.unsqueeze(0)


def interpolate(model, x1, x2, steps: int):
    """Decodes of the interpolated codes between two images (each 1x28x28): (steps, 1, 28, 28)."""
    model.eval()
    with torch.inference_mode():
        z = model.encoder(torch.stack([x1, x2]))
        return model.decoder(interpolate_latents(z[0], z[1], steps))


def nearest_distance(images, reference, chunk: int = 64) -> np.ndarray:
    """For each image, the mean squared pixel distance to its nearest image in `reference`."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    r = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    out = np.empty(len(x))
    r2 = (r ** 2).sum(1)
    for i in range(0, len(x), chunk):
        xi = x[i:i + chunk]
        d2 = (xi ** 2).sum(1)[:, None] + r2[None, :] - 2 * xi @ r.T
        out[i:i + chunk] = np.maximum(d2.min(1), 0.0) / x.shape[1]
    return out


def pick_image(labels, digit: int, seed: int) -> int:
    """Index of one image of `digit`, chosen by `seed` (the same digit and seed give the same image)."""
    idx = (torch.as_tensor(labels) == digit).nonzero().flatten()
    if len(idx) == 0:
        raise ValueError(f"no image of digit {digit} in the split")
    g = torch.Generator().manual_seed(seed)
    return int(idx[torch.randperm(len(idx), generator=g)[0]])


def interpolation_study(models: list, test, reference_images, pairs, steps: int, seed: int) -> dict:
    """Experiment 2 for every model and digit pair.

    models: list of (config dict, AutoEncoder); test: a Split to pick the images from;
    reference_images: the training images the 'digit-likeness' distance is measured against.
    Returns the figures' data (per pair: the two inputs, one row of decodes per model) and the
    metrics: per pair and model, the pixel MSE of the a=0 and a=1 decodes against the inputs
    (end_mse_a, end_mse_b) and the distance of the a~0.5 decode to its nearest reference image
    (mid_nn_distance), beside the same distance for the two inputs (input_nn_distance).
    """
    alphas = np.linspace(0.0, 1.0, steps)
    mid = int(np.argmin(np.abs(alphas - 0.5)))
    out_pairs, records = [], []
    for a, b in pairs:
        ia, ib = pick_image(test.labels, a, seed), pick_image(test.labels, b, seed)
        xa, xb = test.images[ia], test.images[ib]
        input_nn = nearest_distance(torch.stack([xa, xb]).numpy(), reference_images)
        rows = []
        for cfg, model in models:
            dec = interpolate(model, xa, xb, steps)
            end_a = float(torch.mean((dec[0] - xa) ** 2))
            end_b = float(torch.mean((dec[-1] - xb) ** 2))
            mid_nn = float(nearest_distance(dec[mid:mid + 1].numpy(), reference_images)[0])
            rows.append({"label": model_label(cfg), "decodes": dec})
            records.append({"pair": f"{a}-{b}", "digit_a": a, "digit_b": b, "index_a": ia, "index_b": ib,
                            "latent_dim": cfg["latent_dim"], "num_conv": cfg["num_conv"], "seed": cfg.get("seed"),
                            "end_mse_a": end_a, "end_mse_b": end_b, "end_mse": (end_a + end_b) / 2,
                            "mid_nn_distance": mid_nn, "input_nn_distance": float(input_nn.mean())})
        out_pairs.append({"pair": (a, b), "inputs": (xa, xb), "rows": rows})
    metrics = {"steps": steps, "alphas": alphas.tolist(), "mid_alpha": float(alphas[mid]),
               "n_reference": int(len(reference_images)), "records": records}
    return {"pairs": out_pairs, "alphas": alphas, "metrics": metrics}
