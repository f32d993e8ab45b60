"""What the renderer prints of a report on the console, read from the `verdicts.json` the analyses
notebook wrote (`verdicts.save`): the verdict counts and, where the report is compared with
another profile, whether the two agree. No pandas, no claims: the command prints it in a second."""

from __future__ import annotations

from pathlib import Path

from ..files import CorruptArtifact, read_json

VERDICTS_JSON = "verdicts.json"  # beside report.html, written by `verdicts.save`
THIS_RUN = "this run"  # who decides a claim alone, where not the profile compared with (no profile's name)


def verdicts_line(folder) -> str:
    """'verdicts: 4 supported, 1 contradicted, 7 inconclusive; compared with large: the same verdict
    on all 5 conclusions both decide; large alone decides 4' ('' where the file is absent or damaged)."""
    try:
        saved = read_json(Path(folder) / VERDICTS_JSON)
        counts = saved["counts"]
        line = "verdicts: " + ", ".join(f"{n} {word}" for word, n in counts)
    except (CorruptArtifact, OSError, KeyError, TypeError, ValueError):
        return ""
    other = saved.get("compared_with")
    if isinstance(other, dict) and other.get("profile"):
        name, alone = other["profile"], list((other.get("alone") or {}).values())
        said = agreement_words(
            len(other.get("same", [])),
            len(other.get("differ", [])),
            [(who, alone.count(who), "") for who in (name, THIS_RUN)],
        )
        line += f"; compared with {name}: {said}"
    return line


def agreement_words(same: int, differ: int, alone: list, differ_detail: str = "") -> str:
    """How two profiles' verdicts meet, in the words the abstract (`prose.comparison_sentence`) and
    the console both print: 'the same verdict on all 5 conclusions both decide; large alone decides
    4'. `alone`: (who, how many it alone decides, which, in words or ''); `differ_detail`: which
    claims differ, in words, or ''."""
    decided = same + differ
    if differ:
        said = f"a different verdict on {differ} of the {decided} conclusion{'' if decided == 1 else 's'} both decide"
        said += f" ({differ_detail})" if differ_detail else ""
    elif decided == 1:
        said = "the same verdict on the one conclusion both decide"
    elif decided:
        said = f"the same verdict on all {decided} conclusions both decide"
    else:
        said = "no conclusion is decided by both"
    for who, n, which in alone:
        if n:
            said += f"; {who} alone decides {n}" + (f" ({which})" if which else "")
    return said
