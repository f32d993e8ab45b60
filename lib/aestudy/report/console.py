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
    on all 5 both decide, large alone decides 4' ('' where the file is absent or damaged)."""
    try:
        saved = read_json(Path(folder) / VERDICTS_JSON)
        counts = saved["counts"]
        line = "verdicts: " + ", ".join(f"{n} {word}" for word, n in counts)
    except (CorruptArtifact, OSError, KeyError, TypeError, ValueError):
        return ""
    other = saved.get("compared_with")
    if isinstance(other, dict) and other.get("profile"):
        name, same, differ = other["profile"], len(other.get("same", [])), len(other.get("differ", []))
        alone = list((other.get("alone") or {}).values())
        said = (
            f"a different verdict on {differ} of the {same + differ} both decide"
            if differ
            else f"the same verdict on all {same} both decide"
            if same
            else "no conclusion decided by both"
        )
        for who in (name, THIS_RUN):
            if alone.count(who):
                said += f", {who} alone decides {alone.count(who)}"
        line += f"; compared with {name}: {said}"
    return line
