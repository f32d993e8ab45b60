"""Experiment 3: the Pearson correlation matrix of each model's latent codes of the same images,
and the effective number of dimensions the code uses (`participation_ratio`).

Why the correlations are not fixed by the objective: the autoencoder's loss is unchanged when
the code z is replaced by Az for any invertible d x d matrix A (the decoder's first layer absorbs
A^-1 and the encoder's last layer A), so nothing in the training pushes the coordinates towards
independence or towards correlation; what the mean |correlation| between coordinates shows is
how the d coordinates share the variance the data need. When the code's effective rank (the
participation ratio of its covariance) stops growing while d grows, the extra coordinates must be
mixtures of the same few directions, and their mutual correlation rises.
"""

from __future__ import annotations

import numpy as np
import torch

from ...science.artifacts import model_key, model_label


def latent_correlation(z) -> dict:
    """Pearson correlation matrix of the latent dimensions of `z` (n_samples x d).

    A constant dimension has no defined correlation (np.corrcoef gives nan): it is counted in
    `constant_dims` and its correlations are taken as 0; the diagonal is 1 by definition.
    Returns the matrix, the mean absolute off-diagonal correlation (`offdiag`, nan when d = 1)
    and the mean absolute correlation over the whole matrix including its diagonal of ones
    (`with_diag`, the original's figure).
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"need a (n_samples >= 2, d) array, got shape {z.shape}")
    d = z.shape[1]
    constant = np.flatnonzero(np.ptp(z, axis=0) == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.atleast_2d(np.corrcoef(z, rowvar=False))
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    a = np.abs(corr)
    off = a[~np.eye(d, dtype=bool)]
    return {
        "matrix": corr,
        "offdiag": float(off.mean()) if off.size else float("nan"),
        "with_diag": float(a.mean()),
        "constant_dims": [int(i) for i in constant],
        "participation_ratio": participation_ratio(np.atleast_2d(np.cov(z, rowvar=False))),
        "participation_ratio_corr": participation_ratio(corr),
    }


def participation_ratio(matrix) -> float:
    """(sum of eigenvalues)^2 / sum of squared eigenvalues of a symmetric positive semi-definite
    matrix = trace^2 / squared Frobenius norm: the effective number of dimensions, in [1, d] (d
    when the variance is spread evenly, 1 when one direction holds it all); nan for a zero matrix."""
    m = np.asarray(matrix, dtype=np.float64)
    frob2 = float((m**2).sum())
    return float(np.trace(m) ** 2 / frob2) if frob2 > 0 else float("nan")


def encode(model, images, batch_size: int = 1000) -> np.ndarray:
    model.eval()
    with torch.inference_mode():
        return (
            torch.cat([model.encoder(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])
            .double()
            .numpy()
        )


def run(models: list, images) -> dict:
    """Experiment 3 for every model: the correlation matrix of its codes of `images`.

    Returns metrics: one record per model (latent_dim, num_conv, seed, offdiag, with_diag,
    participation_ratio (of the covariance), participation_fraction (over d),
    participation_ratio_corr (of the correlation matrix), n_constant) and the matrices (for the heat-maps), keyed by `model_key`."""
    records, matrices, notes = [], {}, []
    for cfg, model in models:
        res = latent_correlation(encode(model, images))
        key = model_key(cfg)
        if res["constant_dims"]:
            notes.append(
                f"{model_label(cfg)}: latent dims {res['constant_dims']} are constant over these "
                "images; their correlations (nan in np.corrcoef) are counted as 0"
            )
        records.append(
            {
                "model": key,
                "latent_dim": cfg["latent_dim"],
                "num_conv": cfg["num_conv"],
                "seed": cfg.get("seed"),
                "c_factor": cfg.get("c_factor"),
                "offdiag": res["offdiag"],
                "with_diag": res["with_diag"],
                "participation_ratio": res["participation_ratio"],
                "participation_fraction": res["participation_ratio"] / cfg["latent_dim"],
                "participation_ratio_corr": res["participation_ratio_corr"],
                "n_constant": len(res["constant_dims"]),
            }
        )
        matrices[key] = res["matrix"].tolist()
    records.sort(key=lambda r: (r["num_conv"], r["latent_dim"], r["seed"] or 0))
    return {
        "metrics": {"n_encoded": int(len(images)), "records": records, "matrices": matrices},
        "notes": notes,
    }
