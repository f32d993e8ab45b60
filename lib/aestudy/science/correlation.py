"""Experiment 3: the Pearson correlation matrix of each model's latent codes of the same images."""
from __future__ import annotations

import numpy as np
import torch

from .artifacts import model_key, model_label


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
    return {"matrix": corr, "offdiag": float(off.mean()) if off.size else float("nan"),
            "with_diag": float(a.mean()), "constant_dims": [int(i) for i in constant]}


def encode(model, images, batch_size: int = 1000) -> np.ndarray:
    model.eval()
    with torch.inference_mode():
        return torch.cat([model.encoder(images[i:i + batch_size])
                          for i in range(0, len(images), batch_size)]).double().numpy()


def correlation_study(models: list, images) -> dict:
    """Experiment 3 for every model: the correlation matrix of its codes of `images`.

    Returns metrics: one record per model (latent_dim, num_conv, seed, offdiag, with_diag,
    n_constant) and the matrices (for the heat-maps), keyed by `model_key`."""
    records, matrices, notes = [], {}, []
    for cfg, model in models:
        res = latent_correlation(encode(model, images))
        key = model_key(cfg)
        if res["constant_dims"]:
            notes.append(f"{model_label(cfg)}: latent dims {res['constant_dims']} are constant over these "
                         "images; their correlations (nan in np.corrcoef) are counted as 0")
        records.append({"model": key, "latent_dim": cfg["latent_dim"], "num_conv": cfg["num_conv"],
                        "seed": cfg.get("seed"), "c_factor": cfg.get("c_factor"), "offdiag": res["offdiag"],
                        "with_diag": res["with_diag"], "n_constant": len(res["constant_dims"])})
        matrices[key] = res["matrix"].tolist()
    records.sort(key=lambda r: (r["num_conv"], r["latent_dim"], r["seed"] or 0))
    return {"metrics": {"n_encoded": int(len(images)), "records": records, "matrices": matrices},
            "notes": notes}
