"""Two profiles' verdicts side by side (`python -m lib compare A B`), from what their runs wrote
(the tables and params.yaml under reports/<profile>/; nothing is executed), each profile judged by
its own `report:` rules. The study asks that the default profile reach the full profile's verdicts
wherever neither is inconclusive; the last line says whether they do."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import config, ondisk
from ..schema import ParamsError
from .decide import INCONCLUSIVE
from .profile import read_profile, resolve_profile_dir
from .text import count
from .verdicts import verdicts

PARAMS_SUFFIXES = (".yaml", ".yml")
NUMBERS = "this run's numbers"


def profile_folder(name: str) -> Path:
    """The reports folder of `name`: a parameter file (its profile's folder under reports/, or
    $REPORTS_DIR) or a folder that holds a profile's tables."""
    p = Path(name)
    if p.suffix in PARAMS_SUFFIXES:
        folder = config.profile_dir(profile_name(p))
    elif len(p.parts) == 1 and not p.exists():  # a bare name: that profile's folder under reports/
        folder = config.profile_dir(name)
    else:
        folder = resolve_profile_dir(p)
    if not ondisk.tables_dir(folder).is_dir():
        raise ParamsError(
            f"{name}: no tables/ in {folder} (give a parameter file whose profile has run, "
            "or a reports/<name> folder)"
        )
    return folder


def profile_name(params_file: Path) -> str:
    """The `profile:` a parameter file names (its runs' folder); one line naming the file when it
    cannot be read. (The runner validates the whole file; the report needs only this.)"""
    from ..bounded_yaml import load

    _, doc = load(params_file)  # one line when missing, unreadable, malformed or out of bounds
    name = doc.get("profile", params_file.stem) if isinstance(doc, dict) else None  # as the runner reads it
    if not isinstance(name, str) or not name:
        raise ParamsError(f"{params_file}: profile: must be a name")
    return name


def agreement(a: pd.DataFrame, b: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(claims decided alike, claims decided differently) among those neither profile finds
    inconclusive (verdict tables indexed by claim id)."""
    both = [
        c
        for c in a.index.intersection(b.index)
        if INCONCLUSIVE not in (a.at[c, "verdict"], b.at[c, "verdict"])
    ]
    same = [c for c in both if a.at[c, "verdict"] == b.at[c, "verdict"]]
    return same, [c for c in both if c not in same]


def decided_by_one(a: pd.DataFrame, b: pd.DataFrame) -> list[tuple[str, int]]:
    """(claim, 0 for `a` or 1 for `b`) for each claim that one profile decides and the other finds
    inconclusive: no disagreement by the study's rule, but a verdict the other profile does not
    confirm, which a reader of the first profile's report should know of."""
    out = []
    for c in a.index.intersection(b.index):
        undecided = [t.at[c, "verdict"] == INCONCLUSIVE for t in (a, b)]
        if undecided.count(True) == 1:
            out.append((c, undecided.index(False)))
    return out


def compare(folder_a, folder_b) -> str:
    """The comparison as text: per conclusion, each profile's verdict, seed count and numbers;
    then a line on the rules if they differ, one on the claims only one profile decides, and the
    last line: agree or not."""
    data = [read_profile(folder_a), read_profile(folder_b)]
    names = [
        d.profile + (f" ({ab})" if data[0].profile == data[1].profile else "") for ab, d in zip("AB", data)
    ]
    tables = [verdicts(d) for d in data]
    width = max(map(len, names))
    lines = [f"verdicts: {names[0]} ({data[0].dir}) vs {names[1]} ({data[1].dir})", ""]
    for claim, row in tables[0].iterrows():
        lines.append(f"[{row['experiment']}] {row['conclusion']}")
        for name, t in zip(names, tables):
            r = t.loc[claim]
            raw = f" ({r['unadjusted']} before Holm)" if r.get("unadjusted") else ""
            lines.append(f"  {name:<{width}}  {r['verdict']:<12}  {r['seeds']:<21}  {r[NUMBERS]}{raw}")
        lines.append("")
    rules = [d.rules for d in data]
    if rules[0] != rules[1]:
        lines.append(
            f"note: the profiles decide by different report: rules ({names[0]}: {rules[0]}; "
            f"{names[1]}: {rules[1]})"
        )
    alone = decided_by_one(*tables)
    if alone:
        lines.append(
            f"decided by one profile only (the other inconclusive), {len(alone)}: "
            + ", ".join(f"{c} ({names[i]}: {tables[i].at[c, 'verdict']})" for c, i in alone)
        )
    same, differ = agreement(*tables)
    decided = len(same) + len(differ)
    if differ:
        lines.append(
            f"DISAGREE on {len(differ)} of the {decided} conclusions where neither is inconclusive: "
            + ", ".join(differ)
        )
    else:
        lines.append(
            f"agree: the same verdict on all {count(decided, 'conclusion')} where neither is inconclusive"
            + (" (none is decided in both)" if not decided else "")
        )
    return "\n".join(lines)
