"""How steady the protocol search's choice is: the default profile's search for one mode (its 5
candidates, drawn by search_seed 0, 3-fold cross-validation at h1 = 650 on the d = 10, num_conv = 2,
seed-0 encoder, as params/default.yaml) run on one label draw of 100 images at a time (the default
searched on draw 0 alone until the night of 2026-12-07; it now averages draws 0 and 1). Each draw
prints the candidate it chooses and every candidate's CV accuracy; the last line, each candidate's
mean over the draws. No test image is read. Figures printed, never asserted:

    DATA_DIR=../shared/data LIB_THREADS=1 .venv/bin/python benchmarks/protocol_draws.py --mode frozen

(LIB_THREADS=1: one thread, as the runner gives each run of the default on 2 cores; another count
sums in another order, and 100-200 steps on 67 images can grow that into a point of CV accuracy.)

Needs the default's runs on disk (reports/default/runs/autoencode/d10-nc2-s0/model.pt: `make report`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

import yaml  # noqa: E402

from aestudy.experiments.protocol.main import main as protocol_main  # noqa: E402
from aestudy.study import check_parameters  # noqa: E402


def search(mode: str, draw: int, out: Path):
    """The default's protocol search for `mode` on label draw `draw`: its table (one row per candidate)."""
    default = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    data, stage = default["data"], default["stages"]["protocol"]["params"]
    given = {
        **data,
        **{k: v for k, v in stage.items() if k != "label_seeds"},
        "modes": [mode],
        "label_seeds": [draw],
        "device": "auto",
        "checkpoints": [
            str(ROOT / "reports" / "default" / "runs" / "autoencode" / "d10-nc2-s0" / "model.pt")
        ],
        "out_dir": str(out / f"{mode}-{draw}"),
    }
    params = check_parameters("protocol", given)
    return protocol_main(params, checkpoints=given["checkpoints"], out_dir=given["out_dir"]).table()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="frozen", choices=["frozen", "finetune", "scratch", "augmented"])
    ap.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5, 6])
    ap.add_argument("--out", type=Path, default=Path("/tmp/protocol_draws"))
    args = ap.parse_args()
    means: dict = {}
    for draw in args.draws:
        t = search(args.mode, draw, args.out)
        chosen = t[t["chosen"]].iloc[0]
        for _, r in t.iterrows():
            means.setdefault(int(r["candidate"]), []).append(float(r["cv_accuracy"]))
        accs = "  ".join(f"{int(r['candidate'])}: {100 * r['cv_accuracy']:.1f} %" for _, r in t.iterrows())
        aug = "augmented" if chosen["augment"] else "not augmented"
        print(
            f"{args.mode}, label draw {draw}: chose candidate {int(chosen['candidate'])} ({aug}) | {accs}",
            flush=True,
        )
    print(
        f"{args.mode}, mean over {len(args.draws)} draws: "
        + "  ".join(f"{c}: {100 * sum(v) / len(v):.1f} %" for c, v in sorted(means.items()))
    )


if __name__ == "__main__":
    main()
