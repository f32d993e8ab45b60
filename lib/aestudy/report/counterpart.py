"""The counterpart: the profile whose verdicts a report shows beside its own, one of higher
fidelity (the `report:` section's `compare_with`, in order of preference; the first a sweep has
finished).
The study asks the default to reach the full profile's verdicts wherever neither is inconclusive;
`aestudy compare` prints the same comparison on the console, and this module hands it to the
report: which profile, its verdicts (each decided by its own `report:` rules, as `compare` decides
them), the claims decided alike, differently and by one side only. `key_part` is what the
renderer puts in the report's key, so that a counterpart that runs again re-renders the report
(importing this module costs nothing: `of` imports the verdicts as it is called)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import ondisk
from ..errors import StudyError

if TYPE_CHECKING:  # the renderer imports this module for `key_part`: no pandas, no claims at import
    import pandas as pd

    from .profile import ProfileData


@dataclass
class Counterpart:
    """The counterpart of a report: the profiles its `report:` section names (`named`), and the first
    of them that a sweep has finished (`data`, its verdict table `table`; None where none has, or
    where it could not be judged: `unreadable` says why)."""

    named: list[str]
    data: ProfileData | None = None
    table: pd.DataFrame | None = None
    same: list[str] = field(default_factory=list)  # claims both decide alike
    differ: list[str] = field(default_factory=list)  # claims both decide, differently
    # claim -> who decides it alone: 0 this report, 1 the counterpart
    alone: dict[str, int] = field(default_factory=dict)
    same_rules: bool = True  # whether it decides by this report's rules (`compare_with` aside)
    unreadable: str = ""  # why the profile found could not be judged (a damaged table): said, not raised
    found: str = ""  # the name of the profile found, readable or not

    @property
    def name(self) -> str:
        return self.data.profile if self.data is not None else self.found


def candidates(named: list[str], own: str) -> list[str]:
    """The profiles named, in order, without the report's own and without repeats."""
    return [n for i, n in enumerate(named) if n != own and n not in named[:i]]


def found(named: list[str], own_dir) -> str | None:
    """The first profile of `named` (not the report's own, `own_dir`) that a sweep has finished
    beside it (in the folder that holds `own_dir`: reports/, or $REPORTS_DIR): its tables and its
    runs.json (written as the sweep ends, so a first sweep still under way is not taken for a
    counterpart with half its runs)."""
    own_dir = Path(own_dir)
    for name in candidates(named, own_dir.name):
        pdir = own_dir.parent / name
        tables = ondisk.tables_dir(pdir)
        if (pdir / ondisk.RUNS_JSON).is_file() and tables.is_dir() and any(tables.glob("*.csv")):
            return name
    return None


def locate(data: ProfileData) -> tuple[list[str], str | None]:
    """The profiles `data`'s `report:` section names (`candidates`) and the first of them a sweep has
    finished (`found`; None where none has): what the report and `aestudy compare` both look up."""
    named = candidates(list(data.rules.compare_with), data.profile)
    return named, found(named, data.dir)


def key_part(named: list[str], own_dir) -> str:
    """A digest of what the counterpart's verdicts are made of (its name, tables, runs' records,
    runs.json and params.yaml), or of the names alone where none is on disk: a part of the report's key."""
    own_dir = Path(own_dir)
    digest = hashlib.sha256(repr(candidates(named, own_dir.name)).encode())
    name = found(named, own_dir)
    if name is not None:
        pdir = own_dir.parent / name
        files = [
            *sorted(ondisk.tables_dir(pdir).glob("*.csv")),
            *ondisk.record_files(pdir),
            pdir / ondisk.RUNS_JSON,
            pdir / ondisk.PARAMS_COPY,
        ]
        digest.update(name.encode())
        for p in files:
            if p.is_file():
                digest.update(p.relative_to(pdir).as_posix().encode() + p.read_bytes())
    return digest.hexdigest()


def of(data: ProfileData, table: pd.DataFrame) -> Counterpart | None:
    """The counterpart of the report on `data` (whose verdict table is `table`); None where its
    `report:` section names none."""
    from .compare import agreement, decided_by_one, deciding
    from .profile import read_profile
    from .verdicts import verdicts

    named, name = locate(data)
    if not named:
        return None
    ref = Counterpart(named=named)
    if name is None:
        return ref
    ref.found = name
    try:
        theirs = read_profile(data.dir.parent / name)
        ref.table = verdicts(theirs)
        ref.same_rules = deciding(theirs.rules) == deciding(data.rules)
    except Exception as exc:  # noqa: BLE001 (its damage or age is its own: this report still renders)
        said = (str(exc).splitlines() or [""])[0]
        ref.unreadable = said if isinstance(exc, StudyError) else f"{type(exc).__name__}: {said}".rstrip(": ")
        return ref
    ref.data = theirs
    ref.same, ref.differ = agreement(table, ref.table)
    ref.alone = dict(decided_by_one(table, ref.table))
    return ref
