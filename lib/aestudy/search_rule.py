"""The one rule every search of the study chooses by: the highest mean cross-validation score,
and among tied scores the earliest candidate (each search lists its base candidate first, so a tie
keeps the untuned protocol or the base recipe). Stated once for the runs that choose (protocol,
semisup) and the report that re-reads their scores per label draw (`transfer.summaries.draws_led`);
torch-free, so either side imports it cheaply."""

from __future__ import annotations


def first_best(scores) -> int:
    """The index of the highest of `scores`, the earliest among ties."""
    return max(range(len(scores)), key=lambda i: (scores[i], -i))
