"""What experiment 1 chose and how, said in the report's "Choices and limitations": its choices,
and what its budget costs the results (whether the autoencoders beat PCA with the same d, how far
training had converged), read from the runs."""

from __future__ import annotations

from ...report.stats import SEED
from . import fidelity, outliers
from .fidelity import CELL, ERROR
from .outliers import model_name

STAGE = "autoencode"
WARMUP_FOR = {"latent_dim": 20, "num_conv": 3, "seed": 0}  # the model the warm-up was first added for


def precision_words(data, stage: str, given: str) -> str:
    """A stage's precision for the reader: as given, and for `auto` what it became on the
    hardware of the stage's runs (their resources.json)."""
    if given != "auto":
        return given
    used = data.computed_in(stage, "precision")
    return f"auto ({' and '.join(used)} on these runs' hardware)" if used else "auto"


def still_worse(data) -> str:
    """'; in these runs 1 of 48 models still trains clearly worse than its seed siblings (named in
    experiment 1)', or '' where none does: the warm-up's reason checked against this profile's runs."""

    ae = data.usable(STAGE)
    odd = outliers.unusual_seeds(ae, data.rules.outlier_excess) if not ae.empty else []
    if not len(odd):
        return ""
    verb = "trains" if len(odd) == 1 else "train"
    same = any(all(int(r[k]) == v for k, v in WARMUP_FOR.items()) for _, r in odd.iterrows())
    return (
        f"; in these runs {len(odd)} of {len(ae)} models still {verb} clearly worse than "
        f"{'its' if len(odd) == 1 else 'their'} seed siblings (named in experiment 1)"
        + (
            f", {'the' if len(odd) == 1 else 'among them the'} very model the warm-up was added for"
            if same
            else ""
        )
    )


def largest_residual(ae, independent: bool = False) -> str:
    """A check for a model far from its cell in experiment 1 (the log test error, one mean per
    (d, num_conv) cell, the seed a block where the seeds are shared across cells; `independent`:
    every model seeded for its own cell, so no block; a yardstick only, not what the verdicts
    assume): the largest studentized residual against the bound the largest of n such residuals
    passes with at most 5 % chance (Bonferroni), and, where one model passes it, what that model
    does to the spread."""
    import numpy as np
    from scipy import stats

    from ...report import linear

    if ae.empty or SEED not in ae or ERROR not in ae:
        return ""
    d = ae[ae[ERROR] > 0].assign(_log=lambda t: np.log(t[ERROR]))
    blocks = [] if independent else [SEED]
    against, predicts = (
        ("one mean per (d, num_conv) cell", "its cell predicts")
        if independent
        else ("one mean per (d, num_conv) cell and the seed a block", "its cell and seed predict")
    )
    r = linear.studentized(d, "_log", CELL, blocks)
    if r.empty:
        return ""
    f = linear.fit(d, "_log", CELL, blocks)
    i, n = r.abs().idxmax(), len(r)
    bound = float(stats.t.ppf(1 - 0.05 / (2 * n), f.df - 1))  # Bonferroni over the n residuals
    said = (
        f"Set against {against} (the log test error; a yardstick for a model far from its cell, not what the "
        f"verdicts assume) the largest studentized residual (a model's distance from what {predicts}, in residual SDs "
        f"of the other models) is {r[i]:+.2f} ({model_name(d.loc[i])}), against {bound:.2f}, which the "
        f"largest of {n} residuals of normal, one-variance errors passes with at most 5 % chance (Bonferroni)"
    )
    if abs(r[i]) <= bound:
        return said + ": no model stands apart from the others."
    without = linear.fit(d.drop(index=i), "_log", CELL, blocks)
    return (
        f"{said}: that model stands apart (residual SD of the log error {np.sqrt(f.s2):.3f} with it, "
        f"{np.sqrt(without.s2):.3f} without); it {'raises' if r[i] > 0 else 'lowers'} its cell's mean"
        + (" and widens its cell's spread." if independent else " and its seed's statistics.")
    )


VALIDATED_WARMUP = (
    100  # the warm-up benchmarks/outlier.py chose on held-out training images (against 0 and 50)
)


def budget_effect(data) -> str:
    """What the profile's training budget did to the results, from the runs: the fidelity line's
    facts, or that the runs did not measure them."""
    ae = data.usable(STAGE)
    if ae.empty or not (fidelity.has(ae, fidelity.PCA) or fidelity.VAL_CHANGE in ae):
        return (
            "run times; its effect on the results was not measured by these runs (no PCA yardstick recorded)"
        )
    line = fidelity.fidelity_line(ae, data.rules.confidence).replace("**", "").removeprefix("Fidelity: ")
    return f"run times; its effect on the results is measured: {line}"


def limitations(data) -> str:
    """Experiment 1's limitation at this budget: cells that do not beat PCA, or training that had
    not converged, and what that means for every later experiment."""
    ae = data.usable(STAGE)
    if ae.empty:
        return ""
    c = fidelity.cells(ae, data.rules.confidence)
    miss = fidelity.not_learned(c)
    if not miss.empty:
        measured = c[c["pca"].notna()]
        return (
            f"In experiment 1, {fidelity.where(miss, measured)} the autoencoders do not beat PCA with the same "
            "d: their networks have not learned at this budget, so "
            "the verdicts on them, and on the encoders that experiments 2-4 take from them, describe networks "
            "early in training rather than the trained networks the original drew its conclusions from."
        )
    conv = fidelity.convergence(ae)
    learned = (
        "Experiment 1's autoencoders beat PCA with the same d in every cell"
        + (f"; {conv}. The verdicts describe the networks this budget trains." if conv else ".")
        if fidelity.has(ae, fidelity.PCA)
        else ""
    )
    return " ".join(t for t in (learned, largest_residual(ae, data.rules.models_independent)) if t)


def _seeds_trained(data, declared: list) -> str:
    """'' where every declared seed has a usable model, else '; models of only 3 of them (0, 1, 2) completed'."""
    ae = data.usable(STAGE)
    done = sorted(int(s) for s in ae[SEED].unique()) if not ae.empty and SEED in ae else []
    if set(done) >= set(declared):
        return ""
    return f"; models of only {len(done)} of them ({', '.join(map(str, done)) or 'none'}) completed"


def choices(data) -> list[dict]:
    p, seeds = data.declared(STAGE, "params"), data.declared(STAGE, "grid").get("seed", [])
    start = p.get("output_bias", "mean")  # the schema's default where the file names none
    return [
        {
            "what": "replication",
            "choice": f"{len(seeds)} autoencoder seeds ({', '.join(map(str, seeds))}){_seeds_trained(data, seeds)}",
            "how it was made": "the budget of the profile; every later stage uses every seed's model",
            "on what data": "none (fixed before the runs)",
        },
        {
            "what": "FC hidden width",
            "choice": f"fc_hidden = {p.get('fc_hidden', '?')}",
            "how it was made": "not recorded by the original; a width between the flattened conv output and d",
            "on what data": "none (fixed before the runs)",
        },
        {
            "what": "learning-rate warm-up",
            "choice": f"warmup_steps = {p.get('warmup_steps', '?')}",
            "how it was made": f"first added after one model ({model_name(WARMUP_FOR)}) trained far worse than its seed "
            "siblings, noticed by its test error; then redone (benchmarks/outlier.py) on held-out "
            f"training images, 5 seeds: there, warm-ups shorter than {VALIDATED_WARMUP} steps (0, 50) let a seed's "
            f"encoder collapse and {VALIDATED_WARMUP} did not"
            + (
                ""
                if p.get("warmup_steps") == VALIDATED_WARMUP
                else f"; this profile's {p.get('warmup_steps', '?')} was not benchmarked"
            )
            + still_worse(data),
            "on what data": "held-out training images (first noticed on the test set: disclosed)",
        },
        {
            "what": "where the decoder's output starts",
            "choice": f"output_bias = {start}",
            "how it was made": "not recorded by the original; "
            + (
                "the untrained decoder draws the training images' mean pixel (its last bias at that pixel's logit) "
                "rather than PyTorch's mid-grey, which Adam's first steps spend darkening: at the default profile's "
                "budget this start reached the lower validation error in every (d, num_conv) cell tried, 2 seeds "
                "each (benchmarks/ae_fidelity.py)"
                if start == "mean"
                else "PyTorch's default initialisation (the untrained decoder draws a mid-grey image)"
            ),
            "on what data": "held-out training images" if start == "mean" else "none",
        },
        {
            "what": "epochs",
            "choice": f"{p.get('epochs', '?')} epoch{'' if p.get('epochs') == 1 else 's'}, batch {p.get('batch_size', '?')}, "
            f"{p.get('optimizer', '?')} at lr {p.get('lr', '?')}, "
            f"{precision_words(data, STAGE, p.get('precision', 'float32'))} training",
            "how it was made": "the original's optimiser; the epochs and the arithmetic sized to the profile's time budget "
            "(bfloat16 autocast is faster where the CPU or GPU has bf16 units and much slower where it has none, "
            "so auto takes it only there; errors are measured in float32)",
            "on what data": budget_effect(data),
        },
    ]
