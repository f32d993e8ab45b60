"""What the GPU paths buy, and that they agree with the eager ones (needs a CUDA device).

    DATA_DIR=... python benchmarks/gpu_steps.py [--train 10000] [--steps 300]

1. The autoencoder step (science.steps): ms per step eager against replayed from a CUDA graph,
   for num_conv 1, 2, 3 at batch 64, and the test error of one epoch trained each way from the
   same initialisation (agreement asked: within 2 %).
2. Classifiers trained together (science.batched): one protocol cross-validation (5 folds of
   100 labelled images, fine-tuning, `--steps` steps) one by one against vmapped, with the
   folds' validation accuracies each way; the semi-supervised recipe on 3 label draws each way.
3. The seeds of one cell trained together (experiments.autoencode.together): ms per step of all K seeds
   (num_conv 1, 2, 3; K = `--seeds`) trained one after another by train.run against stacked in one
   vmapped step, each eager and replayed from a CUDA graph (graphs on CUDA only); and each seed's
   test error after one epoch of `--train` images, separately against together.
4. The classifier stages' step (science.graphed; `--parts classifiers`): a protocol
   cross-validation (5 folds), a transfer (h1, mode) (5 label draws) and the semi-supervised recipe
   (params/full.yaml's recipe: 5 label draws; then its search, every candidate recipe x 3 folds, 12
   networks), each one by one eager, one by one graphed, vmapped eager and vmapped graphed: ms per
   step of all the classifiers, and the largest relative difference of a last loss, vmapped graphed
   against vmapped eager; then what full.yaml's semi-supervised run takes at these figures.
5. Peak device memory of this process.
`--parts seeds` runs only part 3 (on the CPU too: `--device cpu`, eager only; `classifiers` too,
where all four ways are eager).
Prints its figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import torch  # noqa: E402

from aestudy.experiments.autoencode import run as train  # noqa: E402
from aestudy.experiments.autoencode import together as seeds_together  # noqa: E402
from aestudy.experiments.protocol import run as protocol  # noqa: E402
from aestudy.science import data  # noqa: E402
from aestudy.science.models import AEConfig, AutoEncoder  # noqa: E402

DEVICE = "cuda"


def _sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _eager(flag: bool) -> None:
    os.environ["AESTUDY_EAGER"] = "1" if flag else "0"


def step_times(images: torch.Tensor, test: torch.Tensor, num_conv: int, steps: int) -> dict:
    out = {}
    for eager in (True, False):
        _eager(eager)
        torch.manual_seed(0)
        model = AutoEncoder(
            AEConfig(latent_dim=10, num_conv=num_conv, c_factor=8, kernel_size=3, fc_hidden=256)
        )
        sub = images[: 64 * steps]
        train.run(model, sub[: 64 * 20], test[:500], epochs=1, device=DEVICE, progress=False)  # warm
        _sync()
        t = time.perf_counter()
        train.run(model, sub, test[:500], epochs=1, device=DEVICE, progress=False)
        _sync()
        out["eager" if eager else "graph"] = (time.perf_counter() - t) / steps * 1000
        torch.manual_seed(0)
        model = AutoEncoder(
            AEConfig(latent_dim=10, num_conv=num_conv, c_factor=8, kernel_size=3, fc_hidden=256)
        )
        hist = train.run(model, images, test, epochs=1, device=DEVICE, progress=False, warmup_steps=100)
        out["error_eager" if eager else "error_graph"] = hist["test_error"][-1]
        out["replays_eager" if eager else "replays_graph"] = hist["graph_replays"]
    return out


def cv_times(pool, steps: int) -> dict:
    torch.manual_seed(0)
    model = AutoEncoder(AEConfig(latent_dim=10, num_conv=2, c_factor=8, kernel_size=3, fc_hidden=256))
    encoder = model.encoder.to(DEVICE).eval()
    idx = data.labelled_subset(pool.labels, 100, 0, balanced=True)
    x, y = pool.images[idx].to(DEVICE), pool.labels[idx].to(DEVICE)
    folds = protocol.stratified_folds(y.cpu(), 5, 0)
    folds = [(tr.to(DEVICE), va.to(DEVICE)) for tr, va in folds]
    proto = {"steps": steps, "lr": 1e-3, "augment": True, "warmup": 50, "encoder_lr": 0.3}
    out = {}
    for eager in (True, False):
        _eager(eager)
        protocol.cross_validate(encoder, "finetune", 650, x, y, {**proto, "steps": 5}, folds, 0)  # warm
        _sync()
        t = time.perf_counter()
        accs = protocol.cross_validate(encoder, "finetune", 650, x, y, proto, folds, 0)
        _sync()
        out["one by one" if eager else "together"] = (time.perf_counter() - t, accs)
    return out


def semisup_times(pool, steps: int) -> dict:
    """The semi-supervised recipe on 3 label draws, one by one against together."""
    from aestudy.experiments.semisup import run as semisup

    torch.manual_seed(0)
    encoder = AutoEncoder(
        AEConfig(latent_dim=10, num_conv=2, c_factor=8, kernel_size=3, fc_hidden=256)
    ).encoder
    unlabelled = pool.images.to(DEVICE)
    draws = [data.labelled_subset(pool.labels, 100, s, balanced=True) for s in range(3)]
    xs, ys = [unlabelled[i] for i in draws], [pool.labels[i].to(DEVICE) for i in draws]
    rec = semisup.recipe(steps=steps, unlabelled_batch=448, threshold=0.8)
    out = {}
    for eager in (True, False):
        _eager(eager)
        semisup.train_each(encoder, 650, xs, ys, unlabelled, {**rec, "steps": 3}, [0, 1, 2])  # warm
        _sync()
        t = time.perf_counter()
        trained = semisup.train_each(encoder, 650, xs, ys, unlabelled, rec, [0, 1, 2])
        _sync()
        out["one by one" if eager else "together"] = (
            time.perf_counter() - t,
            [round(i["final_loss"], 4) for _, i in trained],
        )
    return out


def seeds_times(images: torch.Tensor, test: torch.Tensor, num_conv: int, k: int, steps: int) -> dict:
    """ms per step of all k seeds: one after another (train.run) against together, eager and graphed;
    then the test errors of one epoch over `images` each way (graphed where the device allows)."""
    cfg = AEConfig(latent_dim=10, num_conv=num_conv, c_factor=8, kernel_size=3, fc_hidden=256)
    seeds = list(range(k))
    sub = images[: 64 * steps]
    out = {}
    for eager in (True,) if DEVICE != "cuda" else (True, False):
        _eager(eager)
        tag = "eager" if eager else "graph"
        for warm in (True, False):
            data_ = sub[: 64 * 20] if warm else sub
            _sync()
            t = time.perf_counter()
            for s, m in zip(seeds, seeds_together.build(cfg, seeds)):
                train.run(m, data_, test[:500], epochs=1, seed=s, device=DEVICE, progress=False)
            _sync()
            t_sep = time.perf_counter() - t
            models = seeds_together.build(cfg, seeds)
            _sync()
            t = time.perf_counter()
            seeds_together.run_together(models, seeds, data_, test[:500], epochs=1, device=DEVICE)
            _sync()
            t_tog = time.perf_counter() - t
        out[f"separate {tag}"] = t_sep / steps * 1000
        out[f"together {tag}"] = t_tog / steps * 1000
    _eager(DEVICE != "cuda")
    models = seeds_together.build(cfg, seeds)
    hist = seeds_together.run_together(models, seeds, images, test, epochs=1, device=DEVICE, warmup_steps=100)
    out["errors together"] = [h["test_error"][-1] for h in hist]
    out["errors separate"] = [
        train.run(m, images, test, epochs=1, seed=s, device=DEVICE, progress=False, warmup_steps=100)[
            "test_error"
        ][-1]
        for s, m in zip(seeds, seeds_together.build(cfg, seeds))
    ]
    return out


def print_seeds(images: torch.Tensor, test: torch.Tensor, k: int, steps: int, train_n: int) -> None:
    print(
        f"\nthe seeds of one cell, K = {k}, batch 64: ms per step of all {k} (d = 10; one epoch of "
        f"{train_n} images for the test errors)"
    )
    print(
        "| num_conv | separate eager | together eager | separate graph | together graph | "
        "eager ratio | best ratio | largest relative test-error difference |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for nc in (1, 2, 3):
        r = seeds_times(images, test, nc, k, steps)
        best_sep = min(v for n, v in r.items() if n.startswith("separate"))
        best_tog = min(v for n, v in r.items() if n.startswith("together"))
        diff = max(abs(a / b - 1) for a, b in zip(r["errors together"], r["errors separate"]))
        g = lambda n: f"{r[n]:.2f}" if n in r else "-"
        print(
            f"| {nc} | {g('separate eager')} | {g('together eager')} | {g('separate graph')} | "
            f"{g('together graph')} | {r['separate eager'] / r['together eager']:.2f}x | "
            f"{best_sep / best_tog:.2f}x | {diff:.2%} |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=int, default=10000, help="training images for the agreement epoch")
    ap.add_argument("--steps", type=int, default=300, help="timed steps")
    ap.add_argument("--seeds", type=int, default=5, help="K, the seeds of one cell trained together")
    ap.add_argument(
        "--parts",
        nargs="+",
        default=["ae", "classifiers", "cv", "semisup", "seeds"],
        choices=["ae", "classifiers", "cv", "semisup", "seeds"],
        help="which measurements to run, in this order",
    )
    ap.add_argument(
        "--device", default="cuda", help="cpu: only checks that the script runs (both paths are eager there)"
    )
    args = ap.parse_args()
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_steps.py: no CUDA device")
    print(
        f"device: {torch.cuda.get_device_name() if DEVICE == 'cuda' else DEVICE}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        flush=True,
    )
    tr = data.load_split("mnist", train=True, limit=args.train, download=False)
    te = data.load_split("mnist", train=False, limit=2000, download=False)
    images, test = tr.images.to(DEVICE), te.images.to(DEVICE)
    for part in args.parts:  # in the order asked: the most wanted first, in case the call is stopped
        if part == "ae":
            print_steps(images, test, args.steps, args.train)
        elif part == "cv":
            print_cv(tr, args.steps)
        elif part == "semisup":
            print_semisup(tr, args.steps)
        elif part == "classifiers":
            print_classifiers(tr, args.steps)
        elif part == "seeds":
            print_seeds(images, test, args.seeds, args.steps, args.train)
    if DEVICE == "cuda":
        print(f"\npeak device memory of this process: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")


def print_steps(images, test, steps: int, train_n: int) -> None:
    print("\nautoencoder step, batch 64 (ms/step; one epoch of", train_n, "images for the error)", flush=True)
    print(
        "| num_conv | eager ms | graph ms | speed-up | eager test MSE | graph test MSE | relative | replays |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for nc in (1, 2, 3):
        r = step_times(images, test, nc, steps)
        rel = r["error_graph"] / r["error_eager"] - 1
        print(
            f"| {nc} | {r['eager']:.2f} | {r['graph']:.2f} | {r['eager'] / r['graph']:.1f}x | "
            f"{r['error_eager']:.5f} | {r['error_graph']:.5f} | {rel:+.2%} | {r['replays_graph']} |",
            flush=True,
        )


def print_cv(tr, steps: int) -> None:
    print(f"\nprotocol cross-validation, fine-tuning, 5 folds x {steps} steps, h1 650", flush=True)
    c = cv_times(tr, steps)
    for name, (secs, accs) in c.items():
        print(f"{name}: {secs:.2f} s, validation accuracies {[round(a, 3) for a in accs]}")
    print(f"speed-up: {c['one by one'][0] / c['together'][0]:.1f}x", flush=True)


def print_semisup(tr, steps: int) -> None:
    print(
        f"\nsemi-supervised recipe, 3 label draws x {steps} steps of 448 unlabelled images, h1 650",
        flush=True,
    )
    c = semisup_times(tr, steps)
    for name, (secs, losses) in c.items():
        print(f"{name}: {secs:.2f} s ({secs / steps * 1000:.1f} ms per step of all 3), last losses {losses}")
    print(f"speed-up: {c['one by one'][0] / c['together'][0]:.1f}x", flush=True)


def _timed(fn) -> tuple[float, object]:
    _sync()
    t = time.perf_counter()
    out = fn()
    _sync()
    return time.perf_counter() - t, out


def classifier_times(pool, stage: str, steps: int) -> dict:
    """ms per step of all the classifiers of one stage's fit, four ways: one by one eager (the
    CPU's loop), one by one graphed (`fit_together` of one), vmapped eager and vmapped graphed; and
    each classifier's last loss, vmapped eager against vmapped graphed."""
    from aestudy.experiments.semisup import fit as semisup_fit
    from aestudy.experiments.semisup import run as semisup
    from aestudy.experiments.transfer import run as transfer
    from aestudy.science import batched, fitting

    torch.manual_seed(0)
    model = AutoEncoder(AEConfig(latent_dim=10, num_conv=2, c_factor=8, kernel_size=3, fc_hidden=256))
    encoder = model.encoder.to(DEVICE).eval()
    images, labels = pool.images.to(DEVICE), pool.labels.to(DEVICE)
    if stage == "protocol":  # one cross-validation: 5 folds of 80 of 100 images, fine-tuning
        idx = data.labelled_subset(pool.labels, 100, 0, balanced=True)
        folds = protocol.stratified_folds(pool.labels[idx], 5, 0)
        xs = [images[idx][tr] for tr, _ in folds]
        ys = [labels[idx][tr] for tr, _ in folds]
        mode, proto = (
            "finetune",
            {"steps": steps, "lr": 1e-3, "augment": True, "warmup": 50, "encoder_lr": 0.3},
        )
    else:  # transfer: 5 label draws of 100 images, one (h1, mode)
        draws = [data.labelled_subset(pool.labels, 100, s, balanced=True) for s in range(5)]
        xs, ys = [images[i] for i in draws], [labels[i] for i in draws]
        mode, proto = ("finetune", {"steps": steps, "warmup": 50}) if stage == "transfer" else (None, None)
    seeds = list(range(len(xs)))
    if stage.startswith("semisup"):
        full = full_semisup()
        recs = [{**full["recipe"], "steps": steps}] * len(xs)  # the 5 label draws, full.yaml's recipe
        if stage == "semisup search":  # full.yaml's search: every candidate x 3 folds of 67 images
            idx = data.labelled_subset(pool.labels, 100, 0, balanced=True)
            folds = protocol.stratified_folds(pool.labels[idx], full["folds"], 0)
            cands = semisup.candidates(full["recipe"], full["space"], full["candidates"])
            xs = [images[idx][tr] for _ in cands for tr, _ in folds]
            ys = [labels[idx][tr] for _ in cands for tr, _ in folds]
            recs = [{**c, "steps": steps} for c in cands for _ in folds]
            seeds = list(range(len(xs)))
        build = lambda s: semisup_fit.build(encoder, 650, recs[s], s).to(DEVICE)  # noqa: E731
        alone = lambda c, i: semisup_fit.fit(c, xs[i], ys[i], images, recs[i], seeds[i])  # noqa: E731
        together = lambda cs, ii, g: semisup_fit.fit_together(  # noqa: E731
            cs,
            [xs[i] for i in ii],
            [ys[i] for i in ii],
            images,
            [recs[i] for i in ii],
            [seeds[i] for i in ii],
            graph=g,
        )
        loss = lambda r: r["final_loss"]  # noqa: E731
    else:
        build = lambda s: transfer.build_classifier(encoder, 650, mode, s).to(DEVICE)  # noqa: E731
        alone = lambda c, i: fitting.fit(c, mode, xs[i], ys[i], proto, seeds[i])  # noqa: E731
        together = lambda cs, ii, g: batched.fit_together(  # noqa: E731
            cs, mode, [xs[i] for i in ii], [ys[i] for i in ii], proto, [seeds[i] for i in ii], graph=g
        )
        loss = lambda r: r  # noqa: E731
    m, out = len(xs), {"m": len(xs)}
    ways = {
        "one by one eager": lambda: [alone(build(s), i) for i, s in enumerate(seeds)],
        "one by one graph": lambda: [together([build(s)], [i], True)[0] for i, s in enumerate(seeds)],
        "vmapped eager": lambda: together([build(s) for s in seeds], range(m), False),
        "vmapped graph": lambda: together([build(s) for s in seeds], range(m), True),
    }
    if stage == "semisup search":  # against the search as it ran before: candidates one after another
        k = full["folds"]
        per_candidate = [list(range(c, c + k)) for c in range(0, m, k)]
        ways = {
            "per candidate graph": lambda: [
                r for ii in per_candidate for r in together([build(s) for s in ii], ii, True)
            ],
            "vmapped eager": ways["vmapped eager"],
            "vmapped graph": ways["vmapped graph"],
        }
    for name, fn in ways.items():
        _eager(name == "one by one eager")
        secs, res = _timed(fn)
        out[name] = secs / steps * 1000
        out["losses " + name] = [loss(r) for r in res]
    _eager(False)
    out["agreement"] = max(
        abs(a / b - 1) for a, b in zip(out["losses vmapped graph"], out["losses vmapped eager"])
    )
    return out


def print_classifiers(tr, steps: int) -> None:
    print(
        f"\nclassifier stages: ms per step of all M classifiers, {steps} steps (the first run of each way "
        "includes its capture; protocol: 5 folds, fine-tuning, augmented; transfer: 5 label draws, "
        "fine-tuning; semisup: full.yaml's recipe on 5 label draws; semisup search: full.yaml's "
        "candidate recipes x 3 folds, as one search trains them)",
        flush=True,
    )
    print(
        "| stage | M | one by one eager | one by one graph | vmapped eager | vmapped graph | "
        "best against eager one by one | largest relative last-loss difference, graph vs eager |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    vmapped = {}  # what the stages train with on a GPU: the forecast's figures
    for stage in ("protocol", "transfer", "semisup", "semisup search"):
        r = classifier_times(tr, stage, steps if not stage.startswith("semisup") else min(steps, 200))
        vmapped[stage] = r["vmapped graph"]
        g = lambda n: f"{r[n]:.2f}" if n in r else "-"  # noqa: E731
        speed_up = "-"
        if "one by one eager" in r:
            best = min(r[n] for n in ("one by one graph", "vmapped eager", "vmapped graph"))
            speed_up = f"{r['one by one eager'] / best:.1f}x"
        print(
            f"| {stage} | {r['m']} | {g('one by one eager')} | {g('one by one graph')} | "
            f"{g('vmapped eager')} | {g('vmapped graph')} | {speed_up} | {r['agreement']:.2%} |",
            flush=True,
        )
        if "per candidate graph" in r:
            print(
                f"semisup search, the candidates one after another (each one's folds vmapped and graphed, "
                f"as the search ran before 2026-12-05): {r['per candidate graph']:.2f} ms per step of all "
                f"{r['m']}, against {r['vmapped graph']:.2f} ms all together "
                f"({r['per candidate graph'] / r['vmapped graph']:.1f}x)",
                flush=True,
            )
    full = full_semisup()
    search, draws = full["cv_steps"] * vmapped["semisup search"], full["recipe"]["steps"] * vmapped["semisup"]
    print(
        f"full.yaml's semi-supervised run at these figures: {full['cv_steps']:,} search steps x "
        f"{vmapped['semisup search']:.2f} ms + {full['recipe']['steps']:,} steps of the draws x "
        f"{vmapped['semisup']:.2f} ms = {(search + draws) / 1000:.0f} s (its share of the 120 s target: "
        "about 90 s)",
        flush=True,
    )


def full_semisup() -> dict:
    """params/full.yaml's semi-supervised parameters: what the forecast of its run is made of."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    return yaml.safe_load((root / "params" / "full.yaml").read_text())["stages"]["semisup"]["params"]


if __name__ == "__main__":
    main()
