"""How many image pairs experiment 2 needs per digit pair: its verdicts' degrees of freedom.

Experiment 2 measures each model on `pairs_per_digit_pair` image pairs of each digit pair and
decides its two claims (d = 20 sharper at the ends, d = 10 more digit-like near a = 0.5) with a
Welch interval over the models, each (d, num_conv) cell its own spread. A model's number carries
two kinds of noise: the model itself (its seed) and the image pairs it happened to draw. Where one
cell's spread dominates, Welch-Satterthwaite gives few degrees of freedom (the default had df 4
for "more digit-like" with 30 pairs; the study asks for at least 8 per verdict).

This script measures both kinds on the default's 24 models of d = 10 and 20 (reports/default),
on held-out TRAINING images (outside the 7,000 the autoencoders and the reference classifier
learned from; never a test image), each model drawing `--pairs` image pairs per digit pair:

- per cell, the variance of a model's number between disjoint blocks of 30 image pairs (the image
  sampling), and between the models of the cell (the model itself, less the image share);
- for each n of image pairs, each claim's Welch estimate, standard error and df, computed on
  disjoint blocks of n pairs (their mean over blocks), and the df the variance components predict.

    DATA_DIR=../shared/data LIB_THREADS=1 .venv/bin/python benchmarks/interpolation_pairs.py --pairs 240

Figures printed, never asserted. Needs the default's runs on disk (`make report`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from aestudy.experiments.interpolate import run as interp  # noqa: E402
from aestudy.experiments.reference import run as ref  # noqa: E402
from aestudy.report.linear import welch_over_cells  # noqa: E402
from aestudy.science import artifacts, data, training  # noqa: E402
from aestudy.science.fitting import derived_seed  # noqa: E402

BLOCK = 30  # the default's pairs_per_digit_pair: the unit of the image-sampling variance
HELD_OUT = 20000  # held-out training images drawn from (about 2,000 of each digit)
CLAIMS = {  # measure -> what the table calls the difference the claim decides on
    "sharp": "end |ln| sharpness (d=10 − d=20)",
    "mass_rel": "endpoint mass / ends (d=10 − d=20)",
}


def measure(n_pairs: int, runs: Path) -> dict:
    """Per model (d, num_conv, seed) and digit pair: every image pair's end |ln| sharpness, its
    endpoint-class mass at a ≈ 0.5 and at the ends."""
    default = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    dp = {**default["data"], "data_dir": os.environ.get("DATA_DIR", default["data"]["data_dir"])}
    stage = default["stages"]["interpolate"]["params"]
    training.setup(0)
    _, held = data.load_train_val(
        dp["dataset"],
        dp["data_dir"],
        download=False,
        limit=dp["train_size"],
        val_size=HELD_OUT,
        seed=dp["data_seed"],
    )
    classifier = ref.load_one([str(runs / "reference" / "all" / "classifier.pt")])
    steps = stage["steps"]
    mid = int(np.argmin(np.abs(np.linspace(0, 1, steps) - 0.5)))
    out = []
    paths = sorted((runs / "autoencode").glob("d*-nc*-s*/model.pt"))
    models = [(c, m) for c, m in artifacts.load_models(paths) if c["latent_dim"] in (10, 20)]
    for cfg, model in models:
        for a, b in stage["pairs"]:
            seed = derived_seed("interpolation-pairs-bench", cfg["seed"], cfg["num_conv"], cfg["latent_dim"])
            chosen = interp.image_pairs(held.labels, a, b, seed, n_pairs)
            xa, xb = held.images[[i for i, _ in chosen]], held.images[[j for _, j in chosen]]
            dec = interp.interpolate_pairs(model, xa, xb, steps)
            sharp = interp.sharpness_ratio(dec[:, :, 0].numpy(), xa[:, 0].numpy(), xb[:, 0].numpy())
            p = ref.confidence(classifier, dec.reshape(-1, 1, 28, 28))["probs"].reshape(
                len(chosen), steps, -1
            )
            mass = p[..., a] + p[..., b]
            out.append(
                {
                    "latent_dim": cfg["latent_dim"],
                    "num_conv": cfg["num_conv"],
                    "seed": cfg["seed"],
                    "pair": f"{a}-{b}",
                    "sharp": np.abs(np.log(np.maximum(sharp[:, [0, -1]], 1e-12))).mean(1).tolist(),
                    "mid": mass[:, mid].tolist(),
                    "end": mass[:, [0, -1]].mean(1).tolist(),
                }
            )
        print(f"measured d={cfg['latent_dim']} num_conv={cfg['num_conv']} seed={cfg['seed']}", flush=True)
    return {"n_pairs": n_pairs, "records": out}


def model_values(records: list[dict], lo: int, hi: int) -> dict:
    """(d, num_conv, seed) -> {measure: the model's number on image pairs [lo, hi)}, as the report
    takes it: per digit pair the mean over its image pairs (mass: the ratio of the means), then the
    mean over digit pairs."""
    by_model: dict = {}
    for r in records:
        key = (r["latent_dim"], r["num_conv"], r["seed"])
        mid, end = np.mean(r["mid"][lo:hi]), np.mean(r["end"][lo:hi])
        by_model.setdefault(key, []).append({"sharp": np.mean(r["sharp"][lo:hi]), "mass_rel": mid / end})
    return {k: {m: float(np.mean([v[m] for v in vs])) for m in CLAIMS} for k, vs in by_model.items()}


def claim(values: dict, measure_name: str) -> dict:
    """The claim's Welch estimate d=10 − d=20, the mean over num_conv (the report's difference of cells)."""
    units: dict = {}
    for (d, nc, _), v in values.items():
        units.setdefault((nc, d), []).append(v[measure_name])
    ncs = sorted({nc for nc, _ in units})
    w = {**{(nc, 10): 1 / len(ncs) for nc in ncs}, **{(nc, 20): -1 / len(ncs) for nc in ncs}}
    return welch_over_cells(units, w, "autoencoders")


def analyse(result: dict) -> None:
    n_max = result["n_pairs"]
    records = result["records"]
    blocks = n_max // BLOCK
    per_block = [model_values(records, k * BLOCK, (k + 1) * BLOCK) for k in range(blocks)]
    whole = model_values(records, 0, n_max)
    cells = sorted({(d, nc) for d, nc, _ in whole})
    print(
        f"\nVariance components of a model's number at {BLOCK} image pairs ({blocks} disjoint blocks of {BLOCK}):"
    )
    print(
        "| measure | cell | image sampling (between blocks, mean over models) | between models (at all pairs, less the image share) |"
    )
    print("| --- | --- | --- | --- |")
    comp: dict = {}
    for m in CLAIMS:
        for d, nc in cells:
            keys = [k for k in whole if k[:2] == (d, nc)]
            img = float(np.mean([np.var([b[k][m] for b in per_block], ddof=1) for k in keys]))
            between = float(np.var([whole[k][m] for k in keys], ddof=1)) - img * BLOCK / n_max
            comp[(m, d, nc)] = (img, max(between, 0.0))
            print(f"| {m} | d={d}, num_conv={nc} | {img:.2e} | {between:.2e} |")
    print(
        "\nEach claim at n image pairs per digit pair: mean over disjoint blocks of n (observed), and predicted"
    )
    print(
        "from the components (the cells' variances at n: between models + image sampling x 30 / n; 4 models a cell):"
    )
    print("| measure | n | blocks | estimate | se | df observed (min-max) | df predicted |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for m, name in CLAIMS.items():
        for n in [BLOCK * k for k in (1, 2, 4, 8, 16) if BLOCK * k <= n_max]:
            ests = [claim(model_values(records, j * n, (j + 1) * n), m) for j in range(n_max // n)]
            dfs = [e["df"] for e in ests]
            terms = []
            for d, nc in cells:
                img, between = comp[(m, d, nc)]
                k = sum(1 for key in whole if key[:2] == (d, nc))
                v = (between + img * BLOCK / n) / k / len({c for _, c in cells}) ** 2
                terms.append((v, k - 1))
            v = np.array(terms)
            pred = v[:, 0].sum() ** 2 / (v[:, 0] ** 2 / v[:, 1]).sum()
            print(
                f"| {name} | {n} | {len(ests)} | {np.mean([e['mean'] for e in ests]):+.4f} | "
                f"{np.mean([e['se'] for e in ests]):.4f} | {np.mean(dfs):.1f} ({min(dfs):.0f}-{max(dfs):.0f}) | {pred:.1f} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--pairs", type=int, default=240, help="image pairs per digit pair and model (a multiple of 30)"
    )
    ap.add_argument("--runs", type=Path, default=ROOT / "reports" / "default" / "runs")
    ap.add_argument("--out", type=Path, help="write the measured records (JSON) here")
    ap.add_argument("--analyse", type=Path, help="analyse records written by --out instead of measuring")
    args = ap.parse_args()
    if args.analyse:
        result = json.loads(args.analyse.read_text())
    else:
        torch.set_num_threads(int(os.environ.get("LIB_THREADS", "1")))
        result = measure(args.pairs, args.runs)
        if args.out:
            args.out.write_text(json.dumps(result))
    analyse(result)


if __name__ == "__main__":
    main()
