"""What experiment 4 chose and how, said in the report: the one cell its protocols were tuned on
(beside the h1 and d verdicts) and its rows of "Choices and limitations"."""

from __future__ import annotations

from ...report.stats import SEED
from ...vocabulary import label
from ..autoencode.choices import precision_words

STAGE = "transfer"


def tuned_on(data) -> str:
    """'d=10, num_conv=2, seed 0, h1=650, label draw 0': the one cell the protocols were chosen on."""
    st = (data.params.get("stages") or {}).get("protocol") or {}
    sel = dict((st.get("uses") or {}).get("autoencode") or {})
    p = st.get("params") or {}
    words = [
        f"{label(k)}={'/'.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in sel.items()
        if k != SEED
    ] + ([f"seed {sel[SEED]}"] if SEED in sel else [])
    return ", ".join(words + [f"h1={p.get('h1', '?')}", f"label draw {p.get('label_seed', 0)}"])


def tuned_note(data) -> str:
    """Said beside the h1 and d verdicts: every protocol was chosen on one cell of the grid, which
    may favour it over the other values of h1 and d the transfer runs have ('' where they have none)."""
    if not data.params.get("stages", {}).get("protocol"):
        return ""
    tr = data.usable(STAGE)
    others = [w for w, col in (("h1", "h1"), ("d", "latent_dim")) if col in tr and tr[col].nunique() > 1]
    if not others:
        return ""
    return (
        f"every mode's protocol was chosen on one cell ({tuned_on(data)}), which may favour that cell "
        f"over the other {' and '.join(others)}"
    )


def _uses(data) -> dict:
    """Which autoencoders the transfer stage uses (its `uses: {autoencode: ...}`)."""
    st = ((data.params.get("stages") or {}).get(STAGE)) or {}
    return dict((st.get("uses") or {}).get("autoencode") or {})


def choices(data) -> list[dict]:
    st = (data.params.get("stages") or {}).get("protocol") or {}
    p = st.get("params") or {}
    return [
        {
            "what": "transfer protocols (steps, lr, weight decay, augmentation, fine-tuning schedule)",
            "choice": f"the best of {p.get('candidates', '?')} candidates per mode by {p.get('folds', '?')}-fold CV",
            "how it was made": f"cross-validation on one cell ({tuned_on(data)}); its CV accuracy is the best of the "
            "candidates, so selected and biased upwards; the search space was written by people "
            "who had seen earlier test accuracies",
            "on what data": "labelled training images only (the protocol stage never loads the test set)",
        },
        {
            "what": "encoders transferred",
            "choice": f"num_conv = {_uses(data).get('num_conv', 'every one')}",
            "how it was made": "the original left it open; one model size keeps the grid to d × h1 × mode",
            "on what data": "none (fixed before the runs)",
        },
        {
            "what": "arithmetic of the classifiers",
            "choice": _precisions(data),
            "how it was made": "bfloat16 autocast where the time budget needs it and the hardware has bf16 units "
            "(auto: slower than float32 without them), every mode alike",
            "on what data": "run times, not results",
        },
        {
            "what": "best configuration in the text",
            "choice": "the highest mean test accuracy of d × mode × h1",
            "how it was made": "selected on the test set: shown as the best of N, without an interval",
            "on what data": "test set (a description, not a verdict)",
        },
    ]


def _precisions(data) -> str:
    stages = data.params.get("stages") or {}
    return (
        ", ".join(
            f"{n}: {precision_words(data, n, ((stages[n] or {}).get('params') or {}).get('precision', 'float32'))}"
            for n in ("protocol", STAGE, "semisup")
            if n in stages
        )
        or "float32"
    )
