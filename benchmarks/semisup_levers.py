"""Issue 25's levers of the semi-supervised recipe, each measured on held-out *training* images
(never the test set), with the curve of accuracy against training steps.

The recipe of `experiments.semisup.run` with each named change of LEVERS (or `--levers` of them), trained
on label draws no profile evaluates (default 100 and 101) of 100 balanced labels, with the other
training images as the unlabelled pool, and scored every `--every` steps on `--val` training
images kept out of the pool (drawn by the parameter file's data seed: the same held-out images
as benchmarks/semisup_recipe.py). No test image is read. One JSON line per (lever, draw) is
appended to `--out`, and every point of every curve is printed and appended to `<out>.points.jsonl` the
moment it is measured (a run stopped at its time limit keeps the curves so far); a summary table (final accuracy per draw, mean, the change against `base`
paired by draw, ms per step) is printed at the end.

The encoder is a checkpoint (`--encoder`), or experiment 1's d=10, num_conv=2 autoencoder trained
here (seed 0) on the pool by the parameter file's autoencode parameters, for `--ae-epochs` epochs
(default the file's), and saved to `--save-encoder` for the next call.

    DATA_DIR=../shared/data OMP_NUM_THREADS=1 nice -n 19 python benchmarks/semisup_levers.py \\
        --steps 1000 --unlabelled-batch 128 --levers base ema rand elastic align cosine all

Wider changes (`--base '{"threshold": 0.8}'`) set the recipe every lever starts from.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from aestudy.experiments.autoencode import run as train
from aestudy.experiments.semisup import run as semisup
from aestudy.experiments.transfer import run as transfer  # noqa: E402
from aestudy.science import artifacts, data, models, training

LEVERS = {  # name: the recipe's changes (issue 25's levers one at a time, then together)
    "base": {},
    "ema": {"ema": 0.99},
    "rand": {"strong": "rand"},
    "elastic": {"elastic": 2.0},
    "align": {"align": True},
    "cosine": {"schedule": "cosine"},
    "threshold 0.8": {"threshold": 0.8},
    "random init": {"init": "random"},
    "all": {"ema": 0.99, "strong": "rand", "elastic": 2.0, "align": True, "schedule": "cosine"},
    "ema+rand+align": {
        "ema": 0.99,
        "strong": "rand",
        "align": True,
    },  # those with a mean gain over draws 100-101
    "conv-small": {"network": "conv-small"},
    "conv-small all": {
        "network": "conv-small",
        "ema": 0.99,
        "strong": "rand",
        "elastic": 2.0,
        "align": True,
        "schedule": "cosine",
    },
}


def held_out(d: dict, n_val: int):
    """(every training image but `n_val`, those `n_val`): drawn by the data seed as
    benchmarks/semisup_recipe.py draws them with `train_size: null`."""
    full = data.load_split(d["dataset"], train=True)
    perm = torch.randperm(len(full), generator=torch.Generator().manual_seed(d.get("data_seed", 0)))
    n_train = len(full) - n_val
    return full.subset(perm[:n_train].sort().values), full.subset(perm[n_train:].sort().values)


def encoder_for(args, params: dict, pool) -> Path:
    if args.encoder:
        return Path(args.encoder)
    ae = params["stages"]["autoencode"]["params"]
    epochs = args.ae_epochs or ae["epochs"]
    cfg = models.AEConfig(
        latent_dim=10,
        num_conv=2,
        c_factor=ae["c_factor"],
        kernel_size=ae["kernel_size"],
        fc_hidden=ae["fc_hidden"],
    )
    train.setup(0)
    model = models.AutoEncoder(cfg)
    t = time.perf_counter()
    hist = train.run(
        model,
        pool.images,
        pool.images[:2000],
        epochs=epochs,
        batch_size=ae["batch_size"],
        lr=ae["lr"],
        seed=0,
        progress=False,
        warmup_steps=ae.get("warmup_steps", 0),
    )
    print(
        f"autoencoder d=10 num_conv=2 seed 0: {epochs} epochs of {len(pool):,} images, MSE {hist['test_error'][-1]:.4f} "
        f"(on pool images), {time.perf_counter() - t:.0f} s",
        flush=True,
    )
    path = Path(args.save_encoder)
    path.parent.mkdir(parents=True, exist_ok=True)
    artifacts.save_checkpoint(path, model, cfg.to_dict(), seed=0)
    return path


def summary(rows: list[dict]) -> None:
    base = {r["label_seed"]: r["accuracy"] for r in rows if r["lever"] == "base"}
    seeds = sorted({r["label_seed"] for r in rows})
    print(
        "| lever | recipe changes | "
        + " | ".join(f"draw {s}" for s in seeds)
        + " | mean | against base, paired | ms/step |"
    )
    for lever in dict.fromkeys(r["lever"] for r in rows):
        mine = {r["label_seed"]: r for r in rows if r["lever"] == lever}
        accs = [mine[s]["accuracy"] for s in seeds if s in mine]
        paired = [mine[s]["accuracy"] - base[s] for s in mine if s in base]
        diff = f"{100 * statistics.mean(paired):+.2f} points" if paired and lever != "base" else "–"
        ms = statistics.mean(r["ms_per_step"] for r in mine.values())
        cells = [f"{100 * mine[s]['accuracy']:.2f} %" if s in mine else "–" for s in seeds]
        print(
            f"| {lever} | {json.dumps(LEVERS.get(lever, {}))} | "
            + " | ".join(cells)
            + f" | {100 * statistics.mean(accs):.2f} % | {diff} | {ms:.0f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--params", default="params/full.yaml", help="data seed, autoencode and semisup parameters"
    )
    ap.add_argument("--encoder", default=None)
    ap.add_argument("--save-encoder", default="/tmp/semisup_levers/encoder.pt")
    ap.add_argument("--ae-epochs", type=int, default=None)
    ap.add_argument(
        "--levers",
        nargs="+",
        default=["base", "ema", "rand", "elastic", "align", "cosine", "all"],
        choices=sorted(LEVERS),
    )
    ap.add_argument("--base", default="{}", help="JSON: recipe changes every lever starts from")
    ap.add_argument("--label-seeds", type=int, nargs="+", default=[100, 101])
    ap.add_argument("--val", type=int, default=10000)
    ap.add_argument("--steps", type=int, default=None, help="default: the parameter file's recipe")
    ap.add_argument(
        "--together", action="store_true", help="train the label draws as one vmapped network (a GPU)"
    )
    ap.add_argument("--unlabelled-batch", type=int, default=None)
    ap.add_argument("--every", type=int, default=250, help="steps between two points of the curve")
    ap.add_argument("--precision", default="float32", choices=("float32", "bfloat16"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="/tmp/semisup_levers/levers.jsonl")
    args = ap.parse_args()

    params = yaml.safe_load(Path(args.params).read_text())
    dev = train.pick_device(args.device)
    pool, val = held_out(params["data"], args.val)
    path = encoder_for(args, params, pool)
    encoder = transfer.load_encoder(path).to(dev)
    encoder_key = transfer.draw_key(artifacts.load_checkpoint(path))  # whose label draws
    pool, val = pool.to(dev), val.to(dev)
    semi = params["stages"]["semisup"]["params"]
    base = {
        **semi.get("recipe", {}),
        **({"steps": args.steps} if args.steps else {}),
        **json.loads(args.base),
    }
    if args.unlabelled_batch:
        base["unlabelled_batch"] = args.unlabelled_batch
    print(
        f"{len(pool):,} unlabelled training images, {len(val):,} held-out training images scored (no test image "
        f"is read); base recipe {semisup.recipe(**base)}; {args.precision} on {dev}",
        flush=True,
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    points_path = Path(args.out).with_suffix(".points.jsonl")  # the curves as they grow, one line a point
    rows = []
    for lever in args.levers:
        rec = semisup.recipe(**{**base, **LEVERS[lever]})
        draws = [
            transfer.label_draw(
                pool.labels, encoder_key, s, semi.get("n_labels", 100), semi.get("balanced", True)
            )
            for s in args.label_seeds
        ]
        groups = [list(range(len(draws)))] if args.together else [[i] for i in range(len(draws))]
        for group in groups:  # one draw at a time, or every draw as one vmapped network (on a GPU)
            train.setup(0)
            t = time.perf_counter()

            def on_point(step, accs, group=group, lever=lever, t=t):  # each point the moment it exists
                secs = time.perf_counter() - t
                with open(points_path, "a") as f:
                    for i, acc in accs.items():
                        f.write(
                            json.dumps(
                                {
                                    "lever": lever,
                                    "label_seed": args.label_seeds[group[i]],
                                    "step": step,
                                    "accuracy": acc,
                                    "seconds": round(secs, 2),
                                }
                            )
                            + "\n"
                        )
                print(
                    f"  {lever} step {step}: "
                    + ", ".join(f"draw {args.label_seeds[group[i]]} {100 * a:.2f} %" for i, a in accs.items())
                    + f" ({secs:.0f} s)",
                    flush=True,
                )

            with training.precision(args.precision, args.device):
                trained = semisup.train_each(
                    encoder,
                    semi.get("h1", 650),
                    [pool.images[draws[i][1]] for i in group],
                    [pool.labels[draws[i][1]] for i in group],
                    pool.images,
                    rec,
                    [draws[i][0] for i in group],
                    curve=(args.every, val.images, val.labels, on_point),
                )
                secs = time.perf_counter() - t
                accs = [
                    float((transfer.predict(clf, val.images) == val.labels).float().mean())
                    for clf, _ in trained
                ]
            for i, (_, info), acc in zip(group, trained, accs):
                row = {
                    "lever": lever,
                    "label_seed": args.label_seeds[i],
                    "recipe": rec,
                    "accuracy": acc,
                    "curve": info["curve"],
                    "pseudo_label_rate": info["pseudo_label_rate"],
                    "seconds": secs,
                    "ms_per_step": 1000 * secs / rec["steps"],
                    "draws_per_call": len(group),
                    "precision": args.precision,
                    "device": str(dev),
                    "n_val": len(val),
                    "n_pool": len(pool),
                }
                rows.append(row)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(
                    f"{lever}, label draw {row['label_seed']}: "
                    + ", ".join(f"{k}: {100 * a:.2f}" for k, a in info["curve"])
                    + f" % ({secs:.0f} s, {row['ms_per_step']:.0f} ms per step of {len(group)} label draw(s))",
                    flush=True,
                )
    summary(rows)


if __name__ == "__main__":
    main()
