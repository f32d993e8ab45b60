"""How far the verdicts rest on the units an experiment sets aside (`Experiment.set_aside`: units
that stand apart from the others, named by the experiment after their numbers
were seen). Every verdict is decided again on the tables without them, the family and its Holm
step included; the report says which verdicts change. A row goes with a unit where it holds the
unit's value in every column the unit names, so the rows later stages measured on a unit go with
it (a stage whose table does not name it, one tuned on it say, keeps its rows). A check of the verdicts, never one of them: what is set aside was chosen after the data were
seen."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from .experiments import EXPERIMENTS
from .profile import ProfileData
from .text import count
from .verdicts import verdicts


@dataclass
class SetAside:
    """One experiment's units set aside: who they are, in its words (`words`: 'the 1 model that
    ...'), how many (`n`) and each verdict that changes without them: claim -> (verdict, verdict
    without them)."""

    experiment: str
    words: str
    n: int
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    failed: str = ""  # why the verdicts could not be decided again without them (said, never raised)


def without(data: ProfileData, units: list[dict]) -> ProfileData:
    """`data` with every row of every table that holds one of `units` (its value in each column
    the unit names) left out; a table without all of a unit's columns keeps its rows."""

    def keep(t):
        if t is None or t.empty:
            return t
        gone = pd.Series(False, index=t.index)
        for unit in units:
            if not all(c in t for c in unit):
                continue
            match = pd.Series(True, index=t.index)
            for c, value in unit.items():
                match &= pd.to_numeric(t[c], errors="coerce") == value
            gone |= match
        return t[~gone]

    return dataclasses.replace(data, tables={s: keep(t) for s, t in data.tables.items()})


def of(data: ProfileData, v: pd.DataFrame | None = None) -> list[SetAside]:
    """For each experiment that sets units aside in this run, the verdicts (of the table `v`, else
    decided here) that change without them."""
    out = []
    for e in EXPERIMENTS:
        found = e.set_aside(data) if e.set_aside else None
        if not found:
            continue
        words, units = found
        v = verdicts(data) if v is None else v
        try:
            w = verdicts(without(data, units))
        except Exception as exc:  # noqa: BLE001 (a check: the report renders without it and says why)
            out.append(
                SetAside(e.name, words, len(units), failed=f"{type(exc).__name__}: {exc}".splitlines()[0])
            )
            continue
        changed = {
            c: (v.at[c, "verdict"], w.at[c, "verdict"])
            for c in v.index
            if c in w.index and v.at[c, "verdict"] != w.at[c, "verdict"]
        }
        out.append(SetAside(e.name, words, len(units), changed))
    return out


def changed_words(s: SetAside, v: pd.DataFrame) -> str:
    """'1 verdict changes: <conclusion>: inconclusive → supported', or 'every verdict stays as it is'."""
    if not s.changed:
        return "every verdict stays as it is"
    n = len(s.changed)
    return f"{count(n, 'verdict')} change{'s' if n == 1 else ''}: " + "; ".join(
        f"{v.at[c, 'conclusion']}: {a} → {b}" for c, (a, b) in s.changed.items()
    )


def sentence(s: SetAside, v: pd.DataFrame) -> str:
    """The check in words, for "Choices and limitations"."""
    them, they = ("it", "it was") if s.n == 1 else ("them", "they were")
    if s.failed:
        return f"Without {s.words}, the verdicts could not be decided again ({s.failed})."
    return (
        f"Decided again without {s.words}, and without every row that names {them} in the tables of later stages, "
        f"{changed_words(s, v)}. A check of how far the verdicts rest on {them}, not a verdict: "
        f"{they} set aside after {'its' if s.n == 1 else 'their'} numbers were seen, "
        "and the verdicts above stand as decided on every run."
    )
