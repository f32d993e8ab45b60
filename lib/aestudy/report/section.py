"""What an experiment's section of the report shows, item by item, and in what order.

An experiment's package declares its section in its `report` module (`Experiment.title`,
`narrative`, `text`, `sections`); `items` turns that declaration and this profile's runs into a
list of `Text`, `Table`, `Figure` and `Images`, and the analyses notebook shows them one by one.
The notebook therefore names no experiment: adding an experiment's package adds its section."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .claims import Experiment
from .profile import ProfileData


@dataclass(frozen=True)
class Text:
    """Markdown made from this run's numbers (nothing is shown when it is empty)."""

    markdown: str

    def __bool__(self) -> bool:
        return bool(self.markdown)


@dataclass(frozen=True)
class Table:
    """A numbered table under its caption; `empty` is said instead when it has no rows."""

    frame: pd.DataFrame
    caption: str
    empty: str = ""

    def __bool__(self) -> bool:
        return not self.frame.empty or bool(self.empty)


@dataclass(frozen=True)
class Figure:
    """A matplotlib figure, saved as `figures/<name>` of the profile and shown over its caption."""

    figure: object
    caption: str
    name: str

    def __bool__(self) -> bool:
        return self.figure is not None


@dataclass(frozen=True)
class Images:
    """Images a run saved (reconstructions, interpolations), shown in order over one caption."""

    paths: tuple[Path, ...]
    caption: str

    def __bool__(self) -> bool:
        return bool(self.paths)


Item = Text | Table | Figure | Images


def table(of: Callable, empty: str = "") -> Callable:
    """A section entry from a function of the profile that returns (DataFrame, caption)."""
    return lambda data: Table(*of(data), empty=empty)


def figure(of: Callable, name: str) -> Callable:
    """A section entry from a function of the profile that returns (matplotlib figure or None,
    caption), saved as `name`."""
    return lambda data: Figure(*of(data), name=name)


def items(data: ProfileData, experiment: Experiment) -> list[Item]:
    """An experiment's section as the analyses notebook shows it, empty items left out: its heading
    and narrative, its stages' warnings, its sentences (`text`), then what each of its `sections`
    returns (one item, several, or a (DataFrame or figure, caption) pair, numbered by its place)."""
    from .prose import section_warnings  # prose walks the registry, whose sections import this module

    shown: list[Item] = [
        Text(f"## {experiment.title or experiment.name}\n\n{experiment.narrative.strip()}".strip()),
        Text(section_warnings(data, experiment)),
    ]
    if experiment.text:
        shown.append(Text(experiment.text(data)))
    for i, entry in enumerate(experiment.sections, 1):
        shown.extend(_as_items(entry(data), f"{experiment.name}_{i}.png"))
    return [item for item in shown if item]


def _as_items(out, name: str) -> Iterable[Item]:
    if isinstance(out, Item):
        return [out]
    if isinstance(out, tuple) and len(out) == 2 and not isinstance(out[0], Item):
        shown, caption = out
        return [Table(shown, caption) if isinstance(shown, pd.DataFrame) else Figure(shown, caption, name)]
    return list(out)
