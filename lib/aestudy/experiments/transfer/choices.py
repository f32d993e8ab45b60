"""What experiment 4 chose and how, said in the report: where its protocols were tuned
(beside the h1 and d verdicts) and its rows of "Choices and limitations"."""

from __future__ import annotations

import math

import pandas as pd

from ...report.stats import SEED
from ...report.text import listing
from ...vocabulary import in_mode_order, label
from ..autoencode.choices import precision_words

STAGE = "transfer"


def tuned_encoders(data) -> dict:
    """The autoencoders the protocols were tuned on, as the protocol stage's `uses` selects them from
    the autoencode grid: axis -> the values it takes (every value of an axis it does not name)."""
    sel = dict(data.declared("protocol", "uses").get("autoencode") or {})
    grid = data.declared("autoencode", "grid")
    out = {k: sel.get(k, v) for k, v in grid.items()} | {k: v for k, v in sel.items() if k not in grid}
    return {k: v if isinstance(v, list) else [v] for k, v in out.items()}


def tuned_label_seeds(params: dict) -> list[int]:
    """The label draws the protocol stage's parameters (`params`) cross-validate on: its
    `label_seeds`, or the one `label_seed` of runs made before 2026-12-07."""
    seeds = params.get("label_seeds", params.get("label_seed", 0))
    return [int(s) for s in (seeds if isinstance(seeds, list) else [seeds])]


def draws_words(seeds: list[int], sep: str | None = None) -> str:
    """'label draw 0', 'label draws 0, 1 and 2', or with `sep` '/' 'label draws 0/1/2' (said inside a
    list of commas)."""
    numbers = [str(s) for s in seeds]
    return f"label draw{'s' if len(seeds) > 1 else ''} " + (sep.join(numbers) if sep else listing(numbers))


def one_cell(data) -> bool:
    """Whether the protocols were tuned on one encoder (one cell of the grid), not several."""
    return math.prod(len(v) for v in tuned_encoders(data).values()) == 1


def several_draws(data) -> bool:
    """Whether the protocols were cross-validated on more than one draw of labelled images (several
    label seeds, or several encoders each with its own draw)."""
    return len(tuned_label_seeds(data.declared("protocol", "params"))) > 1 or not one_cell(data)


def draws_of(data) -> str:
    """Whose labelled images the protocols were cross-validated on: 'one label draw', 'each of 3
    label draws', "each encoder's label draw" or 'each of 3 label draws of each encoder'."""
    n = len(tuned_label_seeds(data.declared("protocol", "params")))
    if one_cell(data):
        return "one label draw" if n == 1 else f"each of {n} label draws"
    return "each encoder's label draw" if n == 1 else f"each of {n} label draws of each encoder"


def tuned_on(data) -> str:
    """Where the protocols were chosen: 'one cell (d=10, num_conv=2, seed 0, h1=650, label draws 0/1/2)',
    or, where the protocol stage tunes on several encoders (full.yaml: every d), '4 encoders
    (d=5/10/15/20, num_conv=2, seed 0, h1=650, label draws 0/1/2 of each)'."""
    enc = tuned_encoders(data)
    p = data.declared("protocol", "params")
    words = [f"{label(k)}={'/'.join(map(str, v))}" for k, v in enc.items() if k != SEED] + (
        [f"seed {'/'.join(map(str, enc[SEED]))}"] if SEED in enc else []
    )
    n = math.prod(len(v) for v in enc.values())
    h1, draw = f"h1={p.get('h1', '?')}", draws_words(tuned_label_seeds(p), sep="/")
    if n == 1:
        return f"one cell ({', '.join([*words, h1, draw])})"
    return f"{n} encoders ({', '.join([*words, h1, draw + ' of each'])})"


def untuned(data) -> list[str]:
    """The factors the transfer runs vary that the protocols were not tuned over: h1 where the runs
    have several (a protocol is tuned at one h1), d and num_conv where they have a value no tuned
    encoder has."""
    tr = data.usable(STAGE)
    out = ["h1"] if "h1" in tr and tr["h1"].nunique() > 1 else []
    tuned = tuned_encoders(data)
    for column, word in (("latent_dim", "d"), ("num_conv", "num_conv")):
        values = {float(v) for v in tuned.get(column, [])}
        if column in tr and tr[column].nunique() > 1 and not set(tr[column].astype(float)) <= values:
            out.append(word)
    return out


def _untuned_where(data) -> tuple[str, list[str]] | None:
    """(where the protocols were chosen, the factors the transfer runs vary beyond it), or None where
    the profile has no protocol stage or its runs vary nothing the protocols were not tuned on."""
    if not data.params.get("stages", {}).get("protocol"):
        return None
    others = untuned(data)
    return (tuned_on(data), others) if others else None


def tuned_contrast_note(data) -> str:
    """Said beside a difference of two modes: each mode's protocol was chosen where `tuned_on` says,
    so at the other values of d and h1 the runs have, one mode's protocol may suit less well than the
    other's ('' where they have none): a difference that turns at a d may be the protocols'."""
    if (got := _untuned_where(data)) is None:
        return ""
    where, others = got
    return (
        f"every mode's protocol was chosen on {where}: at the other {listing(others)} one mode's "
        "protocol may suit less well than another's"
    )


def tuned_note(data) -> str:
    """Said beside the h1 and d verdicts: every protocol was chosen where `tuned_on` says, which may
    favour it over the other values of h1 and d the transfer runs have ('' where they have none)."""
    if (got := _untuned_where(data)) is None:
        return ""
    where, others = got
    that = "that cell" if one_cell(data) else "those encoders"
    return f"every mode's protocol was chosen on {where}, which may favour {that} over the other {listing(others)}"


def flag(values: pd.Series) -> pd.Series:
    """A recorded yes/no column (bools, or 'True'/'False' read back from a CSV) as booleans."""
    return values.astype(str).str.lower() == "true"


def chosen_rows(protocol: pd.DataFrame | None) -> pd.DataFrame:
    """The protocol each mode's search chose, as recorded (one row per mode, indexed by mode;
    empty without protocol records): what its classifiers were trained by."""
    if protocol is None or protocol.empty or not {"mode", "chosen"} <= set(protocol.columns):
        return pd.DataFrame()
    return protocol[flag(protocol["chosen"])].drop_duplicates("mode").set_index("mode")


def chosen_protocol_rows(data) -> pd.DataFrame:
    """The protocol each mode's search chose in this profile (`chosen_rows`)."""
    return chosen_rows(data.usable("protocol"))


def augmented_by_choice(data) -> dict[str, bool]:
    """{mode: whether its chosen protocol trains on shifted and rotated copies}, in mode order."""
    rows = chosen_protocol_rows(data)
    if rows.empty or "augment" not in rows:
        return {}
    aug = flag(rows["augment"])
    return {m: bool(aug[m]) for m in in_mode_order(rows.index)}


def augment_note(data, a: str, b: str) -> str:
    """Said beside the claim a − b where one of the two chosen protocols augments and the other
    does not: the difference then measures augmentation too, and the other choices in which the two
    protocols differ are named ('' where they agree on augmentation or it is unknown)."""
    aug = augmented_by_choice(data)
    if a not in aug or b not in aug or aug[a] == aug[b]:
        return ""
    on, off = (a, b) if aug[a] else (b, a)
    other = _differing(chosen_protocol_rows(data), a, b)
    return (
        f"the protocol chosen for {on} trains on augmented copies and {off}'s does not, "
        f"so {a} − {b} also measures augmentation"
        + (
            f" (each mode trains by its own chosen protocol; these two also differ in {listing(other)})"
            if other
            else ""
        )
    )


FIELD_WORDS = {"steps": "steps", "lr": "learning rate", "weight_decay": "weight decay"}


def _differing(rows: pd.DataFrame, a: str, b: str) -> list[str]:
    """The fields of FIELD_WORDS in which the chosen protocols of modes a and b differ, in words."""
    return [w for f, w in FIELD_WORDS.items() if f in rows and str(rows.at[a, f]) != str(rows.at[b, f])]


def augment_words(data, contrasts) -> str:
    """The experiment-4 text's sentences on augmentation: which modes' chosen protocols train on
    augmented copies, what then tells the two random-start controls apart, and which compared
    differences also measure augmentation, besides what each is there to measure (`contrasts`:
    (a, b) -> 'fine-tuning', 'pre-training'); '' without protocols."""
    aug = augmented_by_choice(data)
    if not aug:
        return ""
    on, off = [m for m, v in aug.items() if v], [m for m, v in aug.items() if not v]
    words = (
        f"The protocols chosen by cross-validation train {listing(on) or 'no mode'} on shifted and rotated copies"
        + (f" and {listing(off)} on the labelled images as they are" if off else "")
        + "."
        + _controls_words(data, aug)
    )
    mixed: dict = {}  # what a difference is there to measure -> the differences that also measure augmentation
    for (a, b), what in contrasts.items():
        if a in aug and b in aug and aug[a] != aug[b]:
            mixed.setdefault(what, []).append(f"{a} − {b}")
    if mixed:
        words += (
            " So "
            + "; ".join(
                f"{listing(pairs)} also {'measure' if len(pairs) > 1 else 'measures'} augmentation, not {what} alone"
                for what, pairs in mixed.items()
            )
            + "."
        )
    return words


CONTROLS = ("scratch", "augmented")  # the random-start modes: the second always augments (science.fitting)


def _controls_words(data, aug: dict) -> str:
    """What tells the two random-start controls apart in these runs: the second always trains on
    augmented copies, the first only where its search chose to ('' without both)."""
    a, b = CONTROLS
    if not aug.get(b) or a not in aug:
        return ""
    if not aug[a]:
        return f" The {b} control always trains on them; {a}'s search chose not to."
    diff = _differing(chosen_protocol_rows(data), a, b)
    alike = f"so the two differ here only in {listing(diff)}" if diff else "so the two train alike here"
    return f" The {b} control always trains on them; {a} does where its search chooses to, as it did here, {alike}."


def candidates_per_mode(protocol: pd.DataFrame) -> dict:
    """mode -> how many candidates its search tried (the protocol stage's records, one per candidate:
    a mode with fewer choices in the search space than `candidates` tries them all)."""
    if protocol is None or protocol.empty or "mode" not in protocol:
        return {}
    return {str(m): int(n) for m, n in protocol.groupby("mode", sort=False).size().items()}


def _tried(data, p: dict) -> str:
    """'5 candidates', or '2-5 candidates' where a mode's smaller search space was tried whole: what
    the protocol runs recorded, else the parameter file's number."""
    n = candidates_per_mode(data.usable("protocol")).values()
    if not n:
        return f"{p.get('candidates', '?')} candidates"
    return f"{min(n)}-{max(n)} candidates" if min(n) != max(n) else f"{min(n)} candidates"


def _uses(data) -> dict:
    """Which autoencoders the transfer stage uses (its `uses: {autoencode: ...}`)."""
    return dict(data.declared(STAGE, "uses").get("autoencode") or {})


def encoders_row(data) -> dict:
    """The choices row of which autoencoders experiment 4 transfers: one num_conv, as the original
    left it open; or several, since the default took num_conv = 1 beside 2 for its verdicts' degrees
    of freedom after its verdicts with num_conv = 2 alone had been seen (disclosed)."""
    nc = _uses(data).get("num_conv")
    several = isinstance(nc, list) and len(nc) > 1
    return {
        "what": "encoders transferred",
        "choice": f"num_conv = {' and '.join(map(str, nc)) if isinstance(nc, list) else nc or 'every one'}",
        "how it was made": (
            "the original left it open; two model sizes since 2026-12-07 (num_conv = 2 alone before): twice "
            "the encoders, each its own unit, for the degrees of freedom (each cell adds at most its encoders less "
            "one to a Welch df; STUDY.md asks for 8); made after the default's verdicts with num_conv = 2 alone "
            "had been seen"
            if several
            else "the original left it open; one model size keeps the grid to d × h1 × mode"
        ),
        "on what data": "test set (a design changed after test accuracies were seen)"
        if several
        else "none (fixed before the runs)",
    }


def _several_draws_words(params: dict) -> str:
    """Why the search scores candidates over several label draws, where it does: said beside its row."""
    if len(tuned_label_seeds(params)) < 2:
        return ""
    return (
        "; several label draws since 2026-12-07, their number set on held-out training images "
        "(benchmarks/protocol_search_rules.py), after "
        "the default and large profiles, each searching on one draw, had disagreed on a verdict (test set)"
    )


def choices(data) -> list[dict]:
    p = data.declared("protocol", "params")
    return [
        {
            "what": "transfer protocols (steps, lr, weight decay, augmentation, fine-tuning schedule)",
            "choice": f"the best of {_tried(data, p)} per mode by {p.get('folds', '?')}-fold CV",
            "how it was made": f"cross-validation on {tuned_on(data)}; its CV accuracy is the best of the "
            "candidates, so selected and biased upwards; the search space was written by people "
            "who had seen earlier test accuracies" + _several_draws_words(p),
            "on what data": "labelled training images only (the protocol stage never loads the test set)",
        },
        encoders_row(data),
        {
            "what": "raw-pixel claim (pre-training against the baselines)",
            "choice": "decided on the mean over the cells (d, and num_conv where several) of each encoder's "
            "difference, as the other mode differences",
            "how it was made": "until 2026-12-07 it was decided at the largest d alone, on that d's encoders "
            "only; it changed for the degrees of freedom every d's encoders give, after the differences at "
            "every d of the default's first sweep with every model seeded for its own cell (2026-12-07, on "
            "another machine) had been seen",
            "on what data": "test set (a rule changed after test accuracies were seen)",
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
            "choice": "the highest mean test accuracy of d × mode × h1, each averaged over its encoders",
            "how it was made": f"selected on the test set: shown as the best of the {_configurations(data)}, "
            "without an interval",
            "on what data": "test set (a description, not a verdict)",
        },
    ]


def _configurations(data) -> str:
    """'48 configurations (d × mode × h1)': what the best configuration is the best of."""
    tr = data.usable(STAGE)
    keys = [k for k in ("latent_dim", "mode", "h1") if k in tr]
    n = tr.groupby(keys).ngroups if len(tr) and keys else 0
    return f"{n} configurations (d × mode × h1)" if n else "configurations (d × mode × h1)"


def _precisions(data) -> str:
    stages = data.params.get("stages") or {}
    return (
        ", ".join(
            f"{n}: {precision_words(data, n, data.declared(n, 'params').get('precision', 'float32'))}"
            for n in ("protocol", STAGE, "semisup")
            if n in stages
        )
        or "float32"
    )
