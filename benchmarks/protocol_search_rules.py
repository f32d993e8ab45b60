"""How many label draws and folds the protocol search needs: a validation study of the search rule.

The protocol stage chooses each mode's protocol by k-fold cross-validation on the labelled images.
With 100 labels its choice is noisy (benchmarks/protocol_draws.py: the default's frozen choice is
the worst of its 5 candidates on every other label draw). This script measures, for the default's
candidates (search_seed 0, h1 = 650, the d = 10, num_conv = 2, seed-0 encoder of reports/default),
how good the protocol each search rule picks is:

- on each of `--draws` label draws of 100 training images: every candidate's 3-fold and 2-fold CV
  accuracy (the protocol stage's own folds and seeds), and its *held-out accuracy*: trained on all
  100 labels, as a transfer run trains it, then scored on 2,000 other training images (never a
  test image; the held-out labels are used by this benchmark only, to judge the rules);
- a candidate's worth: its held-out accuracy averaged over every draw;
- a rule "n draws x k folds" picks, on each set of n of the draws, the candidate with the best mean
  CV accuracy; its *regret* is the best candidate's worth minus the picked one's, averaged over
  every such set of draws.

    DATA_DIR=../shared/data LIB_THREADS=1 .venv/bin/python benchmarks/protocol_search_rules.py \\
        --modes frozen augmented --out /tmp/rules-a.json
    ... --modes finetune scratch --out /tmp/rules-b.json        (beside it, on the other core)
    .venv/bin/python benchmarks/protocol_search_rules.py --analyse /tmp/rules-a.json /tmp/rules-b.json

Figures printed, never asserted. Needs the default's runs on disk (`make report`)."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

import torch  # noqa: E402
import yaml  # noqa: E402

from aestudy.experiments.protocol import run as protocol  # noqa: E402
from aestudy.experiments.transfer.run import draw_key, label_draw, predict, train_mode  # noqa: E402
from aestudy.science import data, training  # noqa: E402
from aestudy.science.artifacts import load_checkpoint  # noqa: E402
from aestudy.science.fitting import derived_seed  # noqa: E402

HELD_OUT = 2000
RULES = [(1, 3), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)]  # (label draws, folds)


def default_stage() -> tuple[dict, dict]:
    default = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    data_params = {**default["data"], "data_dir": os.environ.get("DATA_DIR", default["data"]["data_dir"])}
    return data_params, default["stages"]["protocol"]["params"]


def measure(modes: list[str], draws: list[int]) -> dict:
    """Per mode, per draw: each candidate's fold accuracies (3 and 2 folds) and held-out accuracy."""
    data_params, stage = default_stage()
    training.setup(stage["search_seed"])
    pool = data.split_of(data_params)
    checkpoint = ROOT / "reports" / "default" / "runs" / "autoencode" / "d10-nc2-s0" / "model.pt"
    # the held-out images: a fixed seeded set of pool images; each draw drops its own labelled ones
    held = torch.randperm(len(pool), generator=torch.Generator().manual_seed(12345))[: HELD_OUT + 200]
    key = draw_key(load_checkpoint(checkpoint))
    out = {"draws": draws, "modes": {}}
    for mode in modes:
        cands = protocol.candidates(mode, stage["space"], stage["candidates"], stage["search_seed"])
        rows = []
        for label_seed in draws:
            (d,) = protocol.labelled_draws(
                [str(checkpoint)], pool, [label_seed], stage["n_labels"], stage["balanced"], device="cpu"
            )
            _, labelled = label_draw(pool.labels, key, label_seed, stage["n_labels"], stage["balanced"])
            labelled = set(labelled.tolist())
            keep = torch.tensor([i for i in held.tolist() if i not in labelled][:HELD_OUT])
            hx, hy = pool.images[keep], pool.labels[keep]
            row = {"label_seed": label_seed, "cv": {}, "held_out": []}
            with training.precision(stage["precision"], "cpu"):
                for k in (3, 2):
                    folds = protocol.stratified_folds(d["y"], k, derived_seed("folds", d["seed"]))
                    row["cv"][k] = protocol.cross_validate_each(
                        d["encoder"], mode, stage["h1"], d["x"], d["y"], cands, folds, d["seed"]
                    )
                for cand in cands:
                    clf, _ = train_mode(d["encoder"], mode, stage["h1"], d["x"], d["y"], d["seed"], cand)
                    row["held_out"].append(int((predict(clf, hx) == hy).sum()) / len(hy))
            rows.append(row)
            print(
                f"{mode}, draw {label_seed}: held-out "
                + " ".join(f"{100 * a:.1f}" for a in row["held_out"])
                + " | 3-fold "
                + " ".join(f"{100 * sum(f) / len(f):.1f}" for f in row["cv"][3])
                + " | 2-fold "
                + " ".join(f"{100 * sum(f) / len(f):.1f}" for f in row["cv"][2]),
                flush=True,
            )
        out["modes"][mode] = {"candidates": cands, "rows": rows}
    return out


def analyse(results: list[dict]) -> None:
    """Each rule's mean regret (points of held-out accuracy) and how often it picks the best candidate."""
    for res in results:
        for mode, m in res["modes"].items():
            rows = m["rows"]
            n_c = len(m["candidates"])
            worth = [sum(r["held_out"][c] for r in rows) / len(rows) for c in range(n_c)]
            best = max(worth)
            print(
                f"{mode}: worth over {len(rows)} draws (held-out %): "
                + "  ".join(f"{c}: {100 * w:.1f}" for c, w in enumerate(worth))
            )
            for n, k in [(n, k) for n, k in RULES if n <= len(rows)]:
                regrets, hits = [], 0
                for subset in itertools.combinations(rows, n):
                    cv = [sum(sum(r["cv"][str(k)][c]) / k for r in subset) / n for c in range(n_c)]
                    pick = max(range(n_c), key=lambda c: (cv[c], -c))
                    regrets.append(best - worth[pick])
                    hits += worth[pick] == best
                print(
                    f"  {n} draw(s) x {k} folds ({n * k} fits a candidate): regret "
                    f"{100 * sum(regrets) / len(regrets):.2f} points, best picked "
                    f"{hits} of {len(regrets)}"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", nargs="+", default=["frozen", "finetune", "scratch", "augmented"])
    ap.add_argument("--draws", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--out", type=Path, default=Path("/tmp/protocol_search_rules.json"))
    ap.add_argument("--analyse", type=Path, nargs="+", help="result files to analyse (no training)")
    args = ap.parse_args()
    if args.analyse:
        analyse([json.loads(p.read_text()) for p in args.analyse])
        return
    res = measure(args.modes, args.draws)
    args.out.write_text(json.dumps(res))
    analyse([json.loads(args.out.read_text())])


if __name__ == "__main__":
    main()
