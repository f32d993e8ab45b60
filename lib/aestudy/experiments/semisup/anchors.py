"""The published anchors of the semi-supervised section and the conditions under which each was
reached, said beside the comparison with this run's (whose conditions come from its metrics and
the parameter file): which paper each anchor comes from, what it trained on, and on which label
draw each of this run's selections was made."""

from __future__ import annotations

import re

import pandas as pd

from ...report.text import count, listing
from ..transfer.choices import draws_words, tuned_label_seeds

METHOD = "semi-supervised"
WHOLE = "the whole training set unlabelled (60,000 images)"
PUBLISHED_LABELS = 100  # every anchor's labelled images (Rasmus et al. 2015; Salimans et al. 2016)
SETTINGS = {  # what each published anchor trained on and which network (the papers' conditions)
    "supervised Conv-Small": (f"the {PUBLISHED_LABELS} labels alone", "the Conv-Small CNN"),
    "ladder": (f"{PUBLISHED_LABELS} labels and {WHOLE}", "a permutation-invariant fully connected network"),
    "Γ-model": (f"{PUBLISHED_LABELS} labels and {WHOLE}", "the Conv-Small CNN"),
    "Improved GAN": (
        f"{PUBLISHED_LABELS} labels and {WHOLE}",
        "permutation-invariant fully connected networks",
    ),
}


def anchor_name(name: str) -> str:
    return name.replace(", published", "")


def _setting(name: str) -> tuple[str, str] | None:
    return next((w for k, w in SETTINGS.items() if k in name), None)


def setting(name: str) -> str:
    """What a published anchor was trained on, and its network (SETTINGS); '' when not listed."""
    w = _setting(name)
    return f"{w[0]}, {w[1]}" if w else ""


def short(name: str) -> str:
    """'fully connected ladder' for 'fully connected ladder, permutation-invariant (Rasmus ...)'."""
    return re.split(r",| \(", name, maxsplit=1)[0]


def sources(published: dict) -> str:
    """'Rasmus et al. 2015: supervised Conv-Small, ...; Salimans et al. 2016: Improved GAN': each
    anchor credited to its own paper, read from its name."""
    by: dict = {}
    for name in published:
        m = re.search(r"\((\w+ et al\. \d{4})", name)
        if m:
            by.setdefault(m.group(1), []).append(short(name))
    return "; ".join(f"{src}: {', '.join(names)}" for src, names in by.items())


def conditions(df: pd.DataFrame, m: dict, published: dict, params: dict | None = None) -> str:
    """The conditions of this run beside the anchors': its unlabelled images, steps, encoder and
    label draws (from its metrics), the anchors' (SETTINGS), and on which draw each selection was
    made (from the parameter file, when given)."""
    rec, n = m.get("recipe") or {}, int(df.loc[df["method"] == METHOD, "label_seed"].nunique())
    pool = f"{m['n_pool']:,}" if m.get("n_pool") else "?"
    labels = pd.to_numeric(df.get("n_labels", pd.Series(dtype=float)), errors="coerce").dropna().unique()
    # every anchor is at the published 100 labels: a run with another count is said to differ there first
    fewer = (
        f"{int(labels[0])} labels (the published results: {PUBLISHED_LABELS}) and "
        if len(labels) == 1 and int(labels[0]) != PUBLISHED_LABELS
        else ""
    )
    words = (
        f" The conditions differ: this run learns from {fewer}{pool} unlabelled training images for {rec.get('steps', '?')} "
        f"steps, from one encoder, over {count(n, 'label draw')} ({count(max(n - 1, 0), 'degree')} of freedom); the published "
        "semi-supervised anchors use "
        + WHOLE
        + " and their papers' full training budgets; "
        + "; ".join(
            f"the {short(k)} trains {_setting(k)[1]}"
            for k in published
            if _setting(k) and WHOLE in _setting(k)[0]
        )
        + "."
    )
    st = (params or {}).get("stages") or {}
    proto, semi = (
        (st.get("protocol") or {}).get("params") or {},
        (st.get("semisup") or {}).get("params") or {},
    )
    tuned = tuned_label_seeds(proto)
    drawn = set(df["label_seed"].dropna().astype(int))
    evaluated = [s for s in tuned if s in drawn]
    selected = (
        df[(df["method"] != METHOD) & pd.to_numeric(df["cv_accuracy"], errors="coerce").notna()]
        if "cv_accuracy" in df
        else df.iloc[0:0]
    )  # the labelled-only comparators whose protocol a search chose (the untuned protocol has none)
    if st.get("protocol") and not selected.empty and evaluated:
        which = "which" if evaluated == tuned else f"of which {draws_words(evaluated)}"
        names = list(dict.fromkeys(selected["method"].astype(str)))
        words += (
            f" The protocol{'s' * (len(names) > 1)} of {listing(names)} "
            f"{'were' if len(names) > 1 else 'was'} chosen by cross-validation on {draws_words(tuned)}, "
            f"{which} {'is' if len(evaluated) == 1 else 'are'} also evaluated here (the choice may favour them "
            f"on {'that draw' if len(evaluated) == 1 else 'those draws'}); the recipe on draw "
            f"{semi.get('search_label_seed', -1)}, which is not."
        )
    return words
