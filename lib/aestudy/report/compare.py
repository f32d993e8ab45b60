"""Two profiles' verdicts side by side (`python -m lib compare A B`), from what their runs wrote
(the tables and params.yaml under reports/<profile>/; nothing is executed), each profile judged by
its own `report:` rules (a parameter file's, as `render` of that file uses; a folder's params.yaml). The study asks that the default profile reach the full profile's verdicts
wherever neither is inconclusive; the last line says whether they do."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from .. import config, ondisk
from ..schema import ParamsError
from .claims import DECIDES
from .decide import INCONCLUSIVE
from .profile import read_profile, resolve_profile_dir
from .text import count
from .verdicts import verdicts

PARAMS_SUFFIXES = (".yaml", ".yml")
NUMBERS = "this run's numbers"
WOULD = "would decide it"  # the verdict table's column: what would decide an inconclusive claim
NBSP = "\u00a0"  # textwrap breaks at ASCII whitespace only
KEY_NUMBER = "the key number"  # how a `decides` that is the key number itself begins


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


def report_section(name: str) -> dict | None:
    """The `report:` rules a parameter file sets (validated; {} where it has none), which decide
    its side of the comparison as they decide its report; None for a folder: its runs' params.yaml."""
    from .. import messages
    from ..bounded_yaml import load
    from ..report_params import ReportParams

    if Path(name).suffix not in PARAMS_SUFFIXES:
        return None
    _, doc = load(Path(name))
    section = (doc.get("report") if isinstance(doc, dict) else None) or {}
    messages.validate(ReportParams, section, f"{name}: report")
    return section


# which profile a report is shown beside, and its time budget
NOT_DECIDING = {"compare_with", "time_budget_minutes"}


def deciding(rules) -> dict:
    """The `report:` rules that decide a verdict: all of them but those that decide nothing
    (`NOT_DECIDING`): two profiles that differ only there decide alike."""
    return rules.model_dump(exclude=NOT_DECIDING)


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


def figures(row: pd.Series) -> str:
    """A verdict's numbers in one sentence: its key number and the number the rule decides on with
    its interval (the report's page 1 and the detail's `decides`), not the whole paragraph; for an
    inconclusive one, what would decide it (how many seeds), without its footnote on Holm."""
    key, decides = row["key number"], row[DECIDES]
    if not decides:
        said = key
    elif decides.startswith(KEY_NUMBER):  # the key number is what the rule decides on
        rest = decides[len(KEY_NUMBER) :].strip()
        said = f"{key} {rest}" if rest.startswith("(") else key
    else:
        said = f"{key}; {decides}" if key else decides
    would = row.get(WOULD) or ""
    if row["verdict"] == INCONCLUSIVE and would:
        said += "; " + would.split(" (at α")[0]
    return said


def _wrapped(head: str, body: str, width: int) -> list[str]:
    """`head` then `body`, its continuation lines indented under where the body starts; a number
    and its unit (`95 %`, `± 2`) stay on one line."""
    kept = body.replace(" %", NBSP + "%").replace("± ", "±" + NBSP)
    lines = textwrap.wrap(
        kept, width=max(width, len(head) + 30), initial_indent=head, subsequent_indent=" " * len(head)
    )
    return [line.replace(NBSP, " ") for line in lines] or [head.rstrip()]


def compare(folder_a, folder_b, report_a=None, report_b=None, detail: bool = False, width: int = 100) -> str:
    """The comparison as text: per conclusion, each profile's verdict, seeds and numbers (the key
    number and what decides it; `detail`: the report's whole paragraph), marked where the verdicts
    differ or one profile alone decides; then a line on the rules if they differ, the claims only
    one profile decides, and the last line: agree or not. `report_a`/`report_b`: the `report:`
    rules of the parameter files given (None: each folder's params.yaml)."""
    data = [read_profile(folder_a, report=report_a), read_profile(folder_b, report=report_b)]
    names = [
        d.profile + (f" ({ab})" if data[0].profile == data[1].profile else "") for ab, d in zip("AB", data)
    ]
    tables = [verdicts(d) for d in data]
    same, differ = agreement(*tables)
    alone = dict(decided_by_one(*tables))
    name_width = max(map(len, names))
    lines = [
        f"verdicts: {names[0]} ({config.relative(data[0].dir)}) vs {names[1]} ({config.relative(data[1].dir)})",
        "each judged by its own report: rules; a verdict only one profile reaches is no disagreement",
        "",
    ]
    title = {
        c: f"[{r['experiment']}] {r['conclusion']}"
        + (
            f" / {names[1]}: {tables[1].at[c, 'conclusion']}"
            if tables[1].at[c, "conclusion"] != r["conclusion"]
            else ""
        )
        for c, r in tables[0].iterrows()
    }  # a conclusion worded from a profile's grid (d = 10 vs 5 where it has no 20) may differ
    for claim, row in tables[0].iterrows():
        mark = (
            "  <- the verdicts differ"
            if claim in differ
            else f"  <- only {names[alone[claim]]} decides"
            if claim in alone
            else ""
        )
        lines.append(f"{title[claim]}{mark}")
        for name, t in zip(names, tables):
            r = t.loc[claim]
            raw = f" ({r['unadjusted']} before Holm)" if r.get("unadjusted") else ""
            head = f"  {name:<{name_width}}  {r['verdict']:<12}  {r['seeds']:<21}  "
            lines += _wrapped(head, (r[NUMBERS] if detail else figures(r)) + raw, width)
        lines.append("")
    rules = [deciding(d.rules) for d in data]
    if rules[0] != rules[1]:
        differ_in = [k for k in rules[0] if rules[0][k] != rules[1].get(k)]
        lines.append(
            "note: the profiles decide by different report: rules ("
            + "; ".join(f"{k}: {names[0]} {rules[0][k]}, {names[1]} {rules[1].get(k)}" for k in differ_in)
            + ")"
        )
    if alone:
        lines.append(f"decided by one profile only (the other inconclusive): {len(alone)}")
        lines += [f"  {title[c]}: {names[i]} {tables[i].at[c, 'verdict']}" for c, i in alone.items()]
    decided = len(same) + len(differ)
    if differ:
        lines.append(f"differ: {len(differ)}")
        lines += [
            f"  {title[c]}: " + ", ".join(f"{n} {t.at[c, 'verdict']}" for n, t in zip(names, tables))
            for c in differ
        ]
        lines.append(
            f"DISAGREE on {len(differ)} of the {count(decided, 'conclusion')} both decide "
            "(neither finds inconclusive)"
        )
    elif decided:
        which = {1: "the one conclusion", 2: "the 2 conclusions"}.get(
            decided, f"all {count(decided, 'conclusion')}"
        )
        lines.append(f"agree: the same verdict on {which} both decide (neither finds inconclusive)")
    else:
        lines.append(
            "agree, vacuously: no conclusion is decided by both (each is inconclusive in one or both)"
        )
    return "\n".join(lines)
