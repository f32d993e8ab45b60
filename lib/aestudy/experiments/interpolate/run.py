"""Experiment 2: decode (1 - a) z1 + a z2 between the codes of two test images, for every model,
and measure the decodes.

Two measures test the original's two claims, on many image pairs per digit pair and seed:
- **sharpness** (`tenengrad`): the Tenengrad measure, the mean squared Sobel gradient magnitude
  of an image, of the decode relative to the same measure of the real digits encoded
  (`sharpness_ratio`: 1 = as sharp as the real digit); "sharper at the ends" is judged on
  |ln ratio| at a = 0 and a = 1 (`end_measures`): a ratio above 1 is ringing or checkerboard
  artefacts, not sharpness, and must not score as better;
- **digit-likeness** (`digit_measures`): the probability a calibrated reference classifier
  (trained on the labelled training images, temperature-scaled on held-out ones) puts on the two
  digits interpolated, and the entropy of its softmax, on the decode nearest a = 0.5, each
  relative to the same model's own a = 0, 1 decodes (a model that reconstructs poorly is not
  credited or blamed at the midpoint for what it does at the ends).
Beside them, as before: the end decodes' pixel MSE against the inputs and the a = 0.5 decode's
distance to its nearest training image (a proxy that rewards blur: a secondary column only).
"""

from __future__ import annotations

import numpy as np
import torch

from ...progress_bar import LoopProgress
from ...science.artifacts import model_label

SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def interpolate_latents(z1, z2, steps: int):
    """(1 - a) z1 + a z2 for `steps` values of a from 0 to 1 (exactly z1 and z2 at the ends)."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    a = torch.linspace(0.0, 1.0, steps, dtype=z1.dtype, device=z1.device).unsqueeze(1)
    return (1 - a) * z1.unsqueeze(0) + a * z2.unsqueeze(0)


def interpolate(model, x1, x2, steps: int):
    """Decodes of the interpolated codes between two images (each 1x28x28): (steps, 1, 28, 28)."""
    return interpolate_pairs(model, x1.unsqueeze(0), x2.unsqueeze(0), steps)[0]


def interpolate_pairs(model, xa, xb, steps: int):
    """The same for n pairs at once (xa, xb: (n, 1, 28, 28)): (n, steps, 1, 28, 28)."""
    model.eval()
    with torch.inference_mode():
        n = len(xa)
        z = model.encoder(torch.cat([xa, xb]))
        a = torch.linspace(0.0, 1.0, steps, dtype=z.dtype).view(1, steps, 1)
        codes = (1 - a) * z[:n].unsqueeze(1) + a * z[n:].unsqueeze(1)
        return model.decoder(codes.reshape(n * steps, -1)).reshape(n, steps, *xa.shape[1:])


# ------------------------------------------------------------------ the measures


def tenengrad(images) -> np.ndarray:
    """Tenengrad sharpness of each image (any leading shape, the last two axes the pixels): the
    mean over the interior pixels of Gx^2 + Gy^2, Gx and Gy the 3x3 Sobel responses (no
    padding, so a border never counts as an edge). 0 for a constant image; blur lowers it."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float64)
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    x = x.reshape(-1, 1, h, w)
    kx = torch.tensor(SOBEL_X, dtype=torch.float64)
    k = torch.stack([kx, kx.T]).unsqueeze(1)  # (2, 1, 3, 3): d/dx and d/dy
    g = torch.nn.functional.conv2d(x, k)
    return (g**2).sum(1).mean((1, 2)).reshape(lead).numpy()


def sharpness_ratio(decodes, first, last) -> np.ndarray:
    """Tenengrad of each decode along a (decodes: (..., steps, H, W)-like) over the real digits'
    own, interpolated as (1 - a) T(first) + a T(last) (first, last: (..., H, W)-like): exactly
    T(decode) / T(input) at a = 0 and a = 1; 1 = as sharp as the real digit."""
    t = tenengrad(decodes)
    steps = t.shape[-1]
    a = np.linspace(0.0, 1.0, steps)
    ref = (1 - a) * tenengrad(first)[..., None] + a * tenengrad(last)[..., None]
    return t / ref


def nearest_distance(images, reference, chunk: int = 64) -> np.ndarray:
    """For each image, the mean squared pixel distance to its nearest image in `reference`."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    r = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    out = np.empty(len(x))
    r2 = (r**2).sum(1)
    for i in range(0, len(x), chunk):
        xi = x[i : i + chunk]
        d2 = (xi**2).sum(1)[:, None] + r2[None, :] - 2 * xi @ r.T
        out[i : i + chunk] = np.maximum(d2.min(1), 0.0) / x.shape[1]
    return out


# ------------------------------------------------------------------ the images


def pick_images(labels, digit: int, seed: int, n: int) -> list[int]:
    """Indices of up to `n` distinct images of `digit`, drawn by `seed` (the same digit, seed and
    n give the same images; a larger n extends the list, so the first is always `pick_image`'s)."""
    idx = (torch.as_tensor(labels) == digit).nonzero().flatten()
    if len(idx) == 0:
        raise ValueError(f"no image of digit {digit} in the split")
    g = torch.Generator().manual_seed(seed)
    return idx[torch.randperm(len(idx), generator=g)[:n]].tolist()


def pick_image(labels, digit: int, seed: int) -> int:
    """Index of one image of `digit`, chosen by `seed` (the same digit and seed give the same image)."""
    return pick_images(labels, digit, seed, 1)[0]


def image_pairs(labels, a: int, b: int, seed: int, n: int) -> list[tuple[int, int]]:
    """`n` pairs (image of a, image of b), drawn by `seed`; the first is the figure's pair
    (`pick_image` of each digit). Fewer when a digit has fewer images; with a == b the images
    of each pair differ."""
    if a == b:
        idx = pick_images(labels, a, seed, 2 * n)
        half = len(idx) // 2
        return list(zip(idx[:half], idx[half : 2 * half]))
    ia, ib = pick_images(labels, a, seed, n), pick_images(labels, b, seed, n)
    return list(zip(ia, ib))


# ------------------------------------------------------------------ the study


def pair_seed(
    image_seed: int, model_seed: int | None, num_conv: int | None = None, latent_dim: int | None = None
) -> int:
    """The seed a model's image pairs are drawn with. By default one draw per model (its seed,
    num_conv and `latent_dim`), so that every model, seeded for its own cell, is an independent unit
    with its own image sampling. With `latent_dim` None (`shared_images`), one draw per autoencoder
    seed and num_conv, shared by the models of that seed and num_conv (d = 10 and d = 20 compared on
    the same images): the model pairs are then the independent units. `image_seed` itself for a model
    without a seed (a stand-in)."""
    from ...science.fitting import derived_seed

    if model_seed is None:
        return image_seed
    tail = tuple(v for v in (num_conv, latent_dim) if v is not None)
    return derived_seed("interpolate-pairs", image_seed, model_seed, *tail)


def end_measures(sharp: np.ndarray) -> dict:
    """Sharpness at the ends from the ratios `sharp` (image pairs x a) of Tenengrad to the real
    digit's: `end_sharpness_error`, the mean |ln ratio| (0 = exactly as sharp; ringing above 1
    counts as much as blur below), `end_sharpness_capped`, the mean of min(ratio, 1), and the raw
    ratio `end_sharpness` (mean; also per end)."""
    ends = sharp[:, [0, -1]]
    return {
        "end_sharpness_error": float(np.abs(np.log(np.maximum(ends, 1e-12))).mean()),
        "end_sharpness_capped": float(np.minimum(ends, 1.0).mean()),
        "end_sharpness": float(ends.mean()),
        "end_sharpness_a": float(sharp[:, 0].mean()),
        "end_sharpness_b": float(sharp[:, -1].mean()),
    }


def digit_measures(probs: np.ndarray, entropy: np.ndarray, a: int, b: int, mid: int) -> dict:
    """From the reference classifier's probabilities (image pairs x a x 10) and entropies (image
    pairs x a) on the decodes: the probability on the two endpoint classes and the entropy near
    a = 0.5 and at the model's own ends (a = 0, 1), and each mid figure relative to the ends."""
    mass = probs[..., a] + (probs[..., b] if b != a else 0.0)
    mid_mass, end_mass = float(mass[:, mid].mean()), float(mass[:, [0, -1]].mean())
    mid_ent, end_ent = float(entropy[:, mid].mean()), float(entropy[:, [0, -1]].mean())
    return {
        "mid_pair_mass": mid_mass,
        "end_pair_mass": end_mass,
        "mid_pair_mass_rel": mid_mass / end_mass if end_mass > 0 else float("nan"),
        "mid_entropy": mid_ent,
        "end_entropy": end_ent,
        "mid_entropy_excess": mid_ent - end_ent,
    }


def run(
    models: list,
    test,
    reference_images,
    pairs,
    steps: int,
    seed: int,
    classifier=None,
    pairs_per_digit_pair: int = 1,
    progress: bool | None = None,
    shared_images: bool = False,
) -> dict:
    """Experiment 2 for every model and digit pair.

    models: list of (config dict, AutoEncoder); test: a Split to draw the images from;
    reference_images: the training images of the nearest-image distance; classifier: the
    (calibrated) reference classifier (experiments.reference.run), None to skip its measures.
    For each digit pair and model, `pairs_per_digit_pair` image pairs drawn by `pair_seed(seed, model
    seed, num_conv, d)`; with `shared_images`, drawn by `pair_seed(seed, model seed, num_conv)` and
    interpolated by every model of that seed and num_conv. Returns the figures' data (per digit pair:
    the first image pair of the first model, decoded by every model of its seed and num_conv, one row
    each), the metrics with one record per digit pair and model (means over its image
    pairs): `end_measures`, `digit_measures`, mid_confidence and input_confidence (top-class
    probability on the a = 0.5 decode and on the real inputs), end_mse (end_mse_a, end_mse_b),
    mid_nn_distance, input_nn_distance; and `curves`: per digit pair and model, the sharpness
    ratio, the confidence, the endpoint-class mass and the entropy at every a (means over the pairs).
    `progress`: a bar over the models and digit pairs (None: unless the runner shows progress).
    """
    from ..reference import run as ref

    alphas = np.linspace(0.0, 1.0, steps)
    mid = int(np.argmin(np.abs(alphas - 0.5)))
    groups: dict = {}
    for cfg, model in models:  # one seed and num_conv: the figure's rows (shared_images: one draw)
        groups.setdefault((cfg.get("seed"), cfg.get("num_conv")), []).append((cfg, model))
    out_pairs, records, curves = [], [], []
    bar = LoopProgress(len(pairs) * len(models), "model", "interpolate", shown=progress)
    for a, b in pairs:
        figure = None
        for (model_seed, num_conv), members in groups.items():
            rows, shown = [], None
            drawn: dict = {}  # pair seed -> its image pairs and the measures of its inputs
            for cfg, model in members:
                drawn_by = pair_seed(
                    seed, model_seed, num_conv, None if shared_images else cfg.get("latent_dim")
                )
                if drawn_by not in drawn:
                    chosen = image_pairs(test.labels, a, b, drawn_by, pairs_per_digit_pair)
                    xa, xb = test.images[[i for i, _ in chosen]], test.images[[j for _, j in chosen]]
                    inputs = torch.cat([xa, xb])
                    drawn[drawn_by] = (
                        chosen,
                        xa,
                        xb,
                        nearest_distance(inputs.numpy(), reference_images),
                        ref.confidence(classifier, inputs)["confidence"] if classifier is not None else None,
                    )
                chosen, xa, xb, input_nn, input_conf = drawn[drawn_by]
                shown = shown or (drawn_by, xa[0], xb[0])  # the figure's image pair: the group's first
                dec = interpolate_pairs(model, xa, xb, steps)  # (n, steps, 1, 28, 28)
                sharp = sharpness_ratio(dec[:, :, 0].numpy(), xa[:, 0].numpy(), xb[:, 0].numpy())
                end_a = torch.mean((dec[:, 0] - xa) ** 2, dim=(1, 2, 3))
                end_b = torch.mean((dec[:, -1] - xb) ** 2, dim=(1, 2, 3))
                mid_nn = nearest_distance(dec[:, mid].numpy(), reference_images)
                rec = {
                    "pair": f"{a}-{b}",
                    "digit_a": a,
                    "digit_b": b,
                    "index_a": chosen[0][0],
                    "index_b": chosen[0][1],
                    "n_image_pairs": len(chosen),
                    "latent_dim": cfg["latent_dim"],
                    "num_conv": cfg["num_conv"],
                    "seed": model_seed,
                    "pair_seed": drawn_by,
                    **end_measures(sharp),
                    "end_mse_a": float(end_a.mean()),
                    "end_mse_b": float(end_b.mean()),
                    "end_mse": float((end_a.mean() + end_b.mean()) / 2),
                    "mid_nn_distance": float(mid_nn.mean()),
                    "input_nn_distance": float(input_nn.mean()),
                }
                curve = {k: rec[k] for k in ("pair", "latent_dim", "num_conv", "seed")}
                curve["sharpness"] = sharp.mean(0).tolist()
                if classifier is not None:
                    conf = ref.confidence(classifier, dec.reshape(-1, 1, 28, 28))
                    c = conf["confidence"].reshape(len(chosen), steps)
                    e = conf["entropy"].reshape(len(chosen), steps)
                    p = conf["probs"].reshape(len(chosen), steps, -1)
                    rec.update(
                        digit_measures(p, e, a, b, mid),
                        mid_confidence=float(c[:, mid].mean()),
                        input_confidence=float(input_conf.mean()),
                    )
                    curve.update(
                        confidence=c.mean(0).tolist(),
                        entropy=e.mean(0).tolist(),
                        pair_mass=(p[..., a] + (p[..., b] if b != a else 0.0)).mean(0).tolist(),
                    )
                records.append(rec)
                curves.append(curve)
                if figure is None:  # the figure's rows: every model of the first group on one image pair
                    own = drawn_by == shown[0]
                    rows.append(
                        {
                            "label": model_label(cfg),
                            "decodes": dec[0]
                            if own
                            else interpolate_pairs(model, shown[1][None], shown[2][None], steps)[0],
                        }
                    )
                bar.add(1)
            if figure is None:  # the figure shows the first group's models (one seed and num_conv)
                figure = {"pair": (a, b), "inputs": shown[1:], "rows": rows}
        out_pairs.append(figure)
    bar.close()
    metrics = {
        "steps": steps,
        "alphas": alphas.tolist(),
        "mid_alpha": float(alphas[mid]),
        "pairs_per_digit_pair": pairs_per_digit_pair,
        "shared_images": shared_images,
        "n_reference": int(len(reference_images)),
        "records": records,
        "curves": curves,
    }
    return {"pairs": out_pairs, "alphas": alphas, "metrics": metrics}
