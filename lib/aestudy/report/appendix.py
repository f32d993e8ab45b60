"""The report's provenance chapter: where and when its runs were computed, the parameter file as
run (and how the rendered-from file differs), the environment, the dataset's checksums and every
run with its time, memory and executed notebook. `render` appends it after the experiments."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat

from .. import config, ondisk
from ..files import CorruptArtifact, read_json
from .provenance import dataset_markdown, environment_info, environment_line, recorded_data, where_line
from .text import Captions, fence, plain


def markdown_cell(text: str):
    return nbformat.v4.new_markdown_cell(text)


def appendix(study, pdir: Path, runs: list[dict], captions: Captions | None = None) -> list:
    """The provenance chapter; its tables are numbered on from `captions` (the report's count)."""
    from .. import datafiles as data

    captions = captions or Captions()
    env = environment_info()
    d = study.data
    try:
        sums = data.file_checksums(d["dataset"], d["data_dir"])
        folder_sum = data.checksum(d["dataset"], d["data_dir"])
    except OSError:
        sums, folder_sum = {}, "absent"
    folder = config.relative(data.raw_folder(d["dataset"], d["data_dir"]))
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    cells = [
        markdown_cell(
            "# Appendix: provenance\n\n"
            f"- **Parameter file:** `{config.relative(study.path)}` (profile `{study.profile}`)\n"
            f"- **Git commit:** `{env['git_commit']}`"
            f"{' (working tree dirty: uncommitted changes)' if env['git_dirty'] is True else ''}\n"
            f"- **Python:** {env['python']} on {env['platform']}\n"
            f"- **Packages:** {versions}\n"
            f"- **Environment:** {environment_line(env, [r.get('environment') for r in runs])}\n"
            f"- **Where the runs executed:** {plain(where_line(runs))}\n"
            f"- **Rendered:** {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
        )
    ]
    cells.append(markdown_cell(params_as_run(study, pdir)))
    cells.append(
        markdown_cell(dataset_markdown(sums, folder_sum, folder, recorded_data(runs), captions.table))
    )
    budget = (study.spec.report or {}).get("time_budget_minutes")
    cells.append(markdown_cell(runs_markdown(runs, captions, budget)))
    return cells


def params_as_run(study, pdir: Path) -> str:
    """The parameter file the profile's last `run` command used (its copy under the profile), and
    where the file this report was rendered from differs, the differences: its `report:` section
    set the verdicts' thresholds, and the runs it would change are the stale ones named on top."""
    import difflib

    copy = pdir / ondisk.PARAMS_COPY
    ran = copy.read_text() if copy.is_file() else study.text
    text = (
        f"## Parameter file as run\n\nThe file of the last `run` command (`{config.relative(copy)}`; a line longer "
        "than the page continues on lines of its own):\n\n" + fence(yaml_for_page(ran.rstrip()), "yaml")
    )
    if ran.strip() == study.text.strip():
        return text
    diff = difflib.unified_diff(
        ran.rstrip().splitlines(),
        study.text.rstrip().splitlines(),
        fromfile="as run",
        tofile=config.relative(study.path),
        lineterm="",
    )
    return (
        text + f"\n\nThis report was rendered from `{config.relative(study.path)}`, which differs from it as "
        "follows: its `report:` section set the thresholds above, and the runs a difference changes, if any, are "
        "named as stale under the title.\n\n" + fence("\n".join(diff), "diff")
    )


def _natural(name: str) -> list:
    """'d5-nc1-s0' before 'd10-nc1-s0': numbers inside a run id compared as numbers."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


# a pause longer than this with no run computing ends a stretch: the runs after it were computed by
# another command (or the same one resumed), and the time between is nobody's computing
STRETCH_GAP_S = 120


def computed_span(runs: list[dict], budget_minutes: float | None = None) -> str:
    """When the ok runs were computed, from their records (each run's end and its seconds): the
    stretches with a run computing (overlapping runs of several workers merge; a pause of over
    STRETCH_GAP_S ends one), their total set against the profile's time budget where it declares
    one (`report: time_budget_minutes`). The table sums run times, which overlap on several workers;
    the first start to the last end counts the time between commands."""
    import datetime as dt

    spans = []
    for r in runs:
        if r["status"] != "ok":
            continue
        try:
            record = read_json(Path(r["dir"]) / ondisk.COMPLETE)
            end = dt.datetime.strptime(record["finished"], "%Y-%m-%dT%H:%M:%S%z")
            # a run trained with others in one job (--seeds-together) records its share of the job's
            # time; the job computed for all of it
            seconds = float(record.get("job_seconds") or r["seconds"] or 0)
        except (OSError, CorruptArtifact, KeyError, TypeError, ValueError):
            continue  # a record from before "finished" was written, or none
        spans.append((end - dt.timedelta(seconds=seconds), end))
    if not spans:
        return ""
    stretches = _stretches(spans, STRETCH_GAP_S)
    first, last = stretches[0][0], stretches[-1][1]
    took = sum(round((e - s).total_seconds()) for s, e in stretches)
    said = f" The {len(spans)} ok run{'s were' if len(spans) != 1 else ' was'} computed between {first:%Y-%m-%d %H:%M} and {last:%Y-%m-%d %H:%M} (UTC{last:%z})"
    if len(stretches) == 1:
        said += f": {_min_s(took)} from the first start to the last end."
    else:
        each = ", ".join(_min_s(round((e - s).total_seconds())) for s, e in stretches)
        said += (
            f", in {len(stretches)} stretches with a run computing ({each}; a pause of over "
            f"{STRETCH_GAP_S / 60:g} min with none ends a stretch): {_min_s(took)} in all, of the "
            f"{_min_s(round((last - first).total_seconds()))} from the first start to the last end."
        )
    return said + _against_budget(took, budget_minutes, len(stretches))


def _stretches(spans: list, gap_s: float) -> list:
    """The (start, end) spans merged where they overlap or a pause between them is at most gap_s."""
    merged: list = []
    for s, e in sorted(spans):
        if merged and (s - merged[-1][1]).total_seconds() <= gap_s:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _min_s(seconds: int) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _against_budget(took: int, budget_minutes: float | None, stretches: int = 1) -> str:
    """' The profile's time budget (…) is 15 min: that time is 7 min 27 s longer …' ('' without one)."""
    if budget_minutes is None:
        return ""
    over = took - round(60 * budget_minutes)
    that = "that time" if stretches == 1 else "their total"
    several = (
        ""
        if stretches == 1
        else " The budget is for one sweep from nothing; stretches of several commands also count any time a "
        "later one spent computing runs again (a run's newest computing replaces its record, not the earlier "
        "stretch)."
    )
    return f" The profile's time budget (report: time_budget_minutes) is {budget_minutes:g} min: " + (
        f'{that} is {_min_s(over)} longer (on the hosts under "Where the runs executed").{several}'
        if over > 0
        else f"{that} is within it."
    )


def runs_markdown(runs: list[dict], captions: Captions, budget_minutes: float | None = None) -> str:
    """The runs of the sweep, compact: one row per stage (runs, ok, summed and slowest run time,
    largest peak memory), the runs that are not ok named with their error, and every run with its
    executed notebook in a folded table (open in the HTML, folded in the PDF)."""
    import pandas as pd

    from .text import html_table

    if not runs:
        return "## Runs\n\nNo run of this profile has been executed."
    t = pd.DataFrame(
        [
            {
                "stage": r["stage"],
                "run": r["run_id"],
                "status": r["status"],
                "seconds": r["seconds"],
                "mem": r.get("peak_rss_mb", float("nan")),
                "error": r.get("error") or "",
                # relative to the report (reports/<profile>/), so that the HTML's link opens it
                "notebook": str(Path(*Path(r["dir"]).parts[-3:]) / f"{r['stage']}.ipynb"),
            }
            for r in sorted(runs, key=lambda r: (r["stage"], _natural(r["run_id"])))
        ]
    ).astype({"seconds": float, "mem": float})  # None (a cached run measures no memory): NaN
    rows = []
    for stage, g in t.groupby("stage", sort=False):
        slow = g.loc[g["seconds"].idxmax()]
        rows.append(
            f"| {stage} | {len(g)} | {int((g['status'] == 'ok').sum())} | {g['seconds'].sum():,.0f} | "
            f"{slow['run']} ({slow['seconds']:,.0f} s) | "
            f"{'–' if g['mem'].isna().all() else format(g['mem'].max(), ',.0f')} |"
        )
    bad = t[t["status"] != "ok"]
    named = (
        (
            "\n\nNot ok: "
            + "; ".join(
                f"{r.stage}/{r.run} **{r.status.upper()}** ({plain(r.error) or 'no error recorded'})"
                for r in bad.itertuples()
            )
            + "."
        )
        if len(bad)
        else ""
    )
    every = t.assign(
        **{
            "wall time (s)": t["seconds"].map(lambda v: f"{v:,.1f}"),
            "peak memory (MiB)": t["mem"].map(lambda v: "–" if pd.isna(v) else f"{v:,.0f}"),  # not 1.61e+03
        }
    )[["stage", "run", "status", "wall time (s)", "peak memory (MiB)", "notebook", "error"]].rename(
        columns={"notebook": "executed notebook"}
    )
    return (
        "## Runs\n\n"
        + captions.table(
            f"The {len(t)} runs of the profile by stage: how many, how many ok, their run times summed "
            "(runs on several workers overlap, so a sum can exceed the time the stage took) and the "
            "slowest, and the largest peak memory of a run's kernel, each as recorded when the run was computed "
            "(a later command that reuses a run records no new time). Every run with its "
            "status, time, memory and executed notebook (runs/<stage>/<run-id>/<stage>.ipynb under "
            "the profile's folder, linked) is listed below it in the HTML (left out of the PDF)."
            + computed_span(runs, budget_minutes)
        ).replace('class="caption ', 'class="runs-caption caption ')
        + "\n\n| stage | runs | ok | summed run time (s) | slowest run | peak memory (MiB) |\n"
        + "| --- | --- | --- | --- | --- | --- |\n"
        + "\n".join(rows)
        + named
        + f'\n\n<details class="every-run"><summary>Every run ({len(t)})</summary>'  # one line: a blank
        + html_table(every.astype(object).fillna(""), cls="runs-table", links={"executed notebook": str})
        + "</details>"
    )  # line would end the block


# ------------------------------------------------------------------ the parameter file on the page


_COMMENT = re.compile(r"(?:^|(?<=\s))#")  # a YAML comment: a '#' at the line's start or after a space
PAGE_COLUMNS = 92  # monospace characters a line of the PDF's code blocks holds (A4, its margins)
MIN_ROOM = 24  # columns a comment needs beside its code to stay there when re-flowed


def _comment_at(line: str) -> int | None:
    """The column of `line`'s comment, or None (none, or a '#' that may sit inside a quoted string)."""
    m = _COMMENT.search(line)
    if m is None or line[: m.start()].count('"') % 2 or line[: m.start()].count("'") % 2:
        return None
    return m.start()


def _flow_pieces(line: str, width: int) -> list[str]:
    """A line of code longer than `width` broken after the commas of its flow collection ('{...}',
    '[...]'), each piece at most `width` where a comma allows, the rest indented to just inside the
    first collection the line opens (to its own indentation where it opens none); its comment, if
    any, stays with the last piece."""
    col = _comment_at(line)
    code, comment = (line[:col].rstrip(), line[col:]) if col is not None else (line.rstrip(), "")
    if len(code) <= width:
        return [line]
    opened = [i for i, ch in enumerate(code) if ch in "{["]
    indent = opened[0] + 1 if opened else len(code) - len(code.lstrip())
    pieces, rest, lead = [], code, ""
    while len(lead + rest) > width:
        quotes, depth, cuts = 0, 0, {}  # depth -> the last comma at that depth that fits
        for i, ch in enumerate(rest):
            quotes ^= ch in "'\""
            if not quotes:
                depth += (ch in "{[") - (ch in "}]")
            if ch == "," and not quotes and len(lead) + i + 1 <= width and rest[i + 1 : i + 2] == " ":
                cuts[depth] = i + 1
        cut = cuts[min(cuts)] if cuts else None  # the outermost collection's commas first
        if cut is None or not rest[cut:].strip():
            break
        pieces.append(lead + rest[:cut])
        rest, lead = rest[cut:].lstrip(), " " * indent
    pieces.append(lead + rest + ("   " + comment if comment else ""))
    return pieces


def wrap_comments(text: str, width: int = PAGE_COLUMNS) -> str:
    """A parameter file for the page: a comment that runs past `width` is re-flowed with the comment
    lines that continue it (those whose '#' stands in the same column, with no code before it) into
    lines of at most `width`, each a comment in that column. The page would otherwise wrap it to the
    left margin, where its words read as keys. A comment with under `MIN_ROOM` columns beside its code
    moves to lines of its own below it, at the code's indentation. Only comments move, so the YAML is
    unchanged; a line without a comment stays whole however long."""
    import textwrap

    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line, col = lines[i], _comment_at(lines[i])
        j = i + 1  # the comment's continuation lines: comments alone in the same column
        while (
            col is not None and j < len(lines) and _comment_at(lines[j]) == col and not lines[j][:col].strip()
        ):
            j += 1
        if col is None or all(len(x) <= width for x in lines[i:j]):
            out += lines[i:j]
            i = j
            continue
        words = " ".join(x[col + 1 :].strip() for x in lines[i:j])
        at = col if width - col >= MIN_ROOM else len(line) - len(line.lstrip())  # no room: below its code
        chunks = textwrap.wrap(words, width - at - 2, break_long_words=False) or [""]
        if at == col:
            out.append(f"{line[:col]}# {chunks.pop(0)}".rstrip())
        else:
            out.append(line[:col].rstrip())
        out += [f"{' ' * at}# {c}" for c in chunks]
        i = j
    return "\n".join(out)


def yaml_for_page(text: str, width: int = PAGE_COLUMNS) -> str:
    """A parameter file as the report prints it: its long lines of code broken after the commas of
    their flow collections (`_flow_pieces`), then its long comments re-flowed (`wrap_comments`), so
    that no line wraps to the page's left margin, where the continuation of a line reads as a key of
    its own. Shown so only where it parses to the same YAML as `text`; else as it is."""
    import yaml

    try:
        meant = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    flowed = "\n".join(piece for line in text.splitlines() for piece in _flow_pieces(line, width))
    for candidate in (wrap_comments(t, width) for t in (flowed, text)):  # the second only if the first fails
        try:
            if yaml.safe_load(candidate) == meant:
                return candidate
        except yaml.YAMLError:
            continue
    return text
