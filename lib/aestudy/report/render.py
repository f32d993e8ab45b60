"""Render a profile's report from the runs already on disk (never trains anything).

`study` is a validated parameter file (an object with `profile`, `path`, `text`, `data` and
`stages()`, as the command line reads it); the report reads it and the files under reports/<profile>/ only.

report = analyses notebook (title, summary, one section per experiment; executed now over
the runs' tables) + the executed notebooks of the stages the declaration puts in the report
(`Stage.in_report`: theory) + the provenance appendix (`appendix`), exported to one self-contained
`report.html` and printed to `report.pdf`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat

from .. import config, ondisk
from ..experiments import about
from ..files import atomic_write_bytes
from ..schema import ParamsError
from ..study import STAGES
from . import console, counterpart
from .appendix import appendix, markdown_cell
from .html import check_tools, combine, export_html
from .pdf import PdfToolMissing, export_pdf
from .text import Captions, caption_html, plain

# the kernel manager the analyses notebook runs under, by name (papermill imports it): the runner's,
# whose kernels die with the process that started them; the report imports nothing of the runner
KERNEL_MANAGER = "aestudy.runner.kernel_manager.LocalKernelManager"
KERNEL_LOG_ENV = "AESTUDY_KERNEL_LOG"  # where that manager sends the kernel's own output (its name)
KERNEL_LOG = "analyses.kernel.log"  # under the profile, beside analyses.ipynb


_NUMBERED = re.compile(r"<b>(Figure|Table) (\d+)\.</b>")
_TABLE_START = re.compile(r"^\|.*\|[ \t]*\n\|[ :|-]+\|[ \t]*$", re.M)


def numbered_so_far(nb) -> Captions:
    """A Captions that numbers on after the figures and tables an executed notebook numbered."""
    last = {"Figure": 0, "Table": 0}
    for cell in nb.cells:
        texts = [cell.get("source", "")] + [
            str(o.get("data", {}).get(k, ""))
            for o in cell.get("outputs", [])
            for k in ("text/markdown", "text/html")
        ]
        for kind, n in _NUMBERED.findall(" ".join(texts)):
            last[kind] = max(last[kind], int(n))
    return Captions(figures=last["Figure"], tables=last["Table"])


def _inline_markdown(text: str) -> str:
    """Markdown (math kept for MathJax) as inline HTML, for a caption."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(text).strip()
    m = re.fullmatch(r"<p>(.*)</p>", html, flags=re.S)
    return m.group(1) if m and "<p>" not in m.group(1) else html


def number_chapter(nb, captions: Captions):
    """Number the figures and tables of a chapter notebook (theory) on from `captions`: a markdown
    table gets a caption above it (its section's heading and its columns); a figure (an image
    output) gets a caption below it: the short paragraph cell just before its cell, if there is
    one (moved), else its section's heading."""
    section, heading, out = "", "", []
    for cell in nb.cells:
        out.append(cell)
        if cell.cell_type == "markdown":
            for level, text in re.findall(r"^(#{1,3})\s+(.*)$", cell.source, flags=re.M):
                text = text.strip()
                if len(level) <= 2:
                    section = text.split(":")[0] if len(level) == 2 else ""
                    heading = text if len(level) == 2 else ""
                else:
                    heading = f"{section}, {text}" if section else text
            parts, last = [], 0
            for m in _TABLE_START.finditer(cell.source):
                cols = [c.strip() for c in m.group(0).splitlines()[0].strip().strip("|").split("|")]
                captions.tables += 1
                words = _inline_markdown(
                    (f"{heading}. " if heading else "") + "Columns: " + ", ".join(cols) + "."
                )
                parts += [
                    cell.source[last : m.start()],
                    caption_html("Table", captions.tables, words, markup=True),
                    "\n\n",
                    m.group(0),
                ]
                last = m.end()
            cell.source = "".join(parts) + cell.source[last:]
        elif any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            prev = out[-2] if len(out) > 1 else None
            words = f"{heading}." if heading else ""
            if (
                prev is not None
                and prev.cell_type == "markdown"
                and len(prev.source) <= 800
                and not re.search(r"^#|^\|", prev.source, flags=re.M)
                and "caption" not in prev.source
            ):
                words = prev.source.strip()
                out.pop(-2)
            captions.figures += 1
            out.append(
                nbformat.v4.new_markdown_cell(
                    caption_html("Figure", captions.figures, _inline_markdown(words), markup=True)
                )
            )
    nb.cells = out
    return nb


@contextlib.contextmanager
def _this_checkout(kernel_log: Path):
    """The analyses kernel imports this checkout's `aestudy` (lib/ first on its PYTHONPATH), not
    whichever copy is installed, as the runner's kernels do, and what the kernel process itself
    prints (ipykernel's log, such as the line on the interrupt every shutdown sends) goes to
    `kernel_log`, not to the console; restored afterwards."""
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", KERNEL_LOG_ENV)}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(config.LIB_DIR), saved["PYTHONPATH"]) if p)
    os.environ[KERNEL_LOG_ENV] = str(kernel_log)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _bad_input_as_one_line():
    """The analyses notebook's ParamsError (a damaged table, a profile_dir with no runs) as the
    command's one line and exit 2, not papermill's traceback of the cell."""
    from papermill.exceptions import PapermillExecutionError

    try:
        yield
    except PapermillExecutionError as exc:
        if exc.ename == "ParamsError":
            raise ParamsError(exc.evalue) from None
        raise


def report_key(study) -> dict[str, str]:
    """What the report is made of, a digest per part (so that a re-render can say which changed):
    the parameter file, every run's completion or failure record, the analyses notebook, the
    package's source (report code and templates included) and the verdicts of the profile
    it is compared with (`counterpart.key_part`: its tables, records, runs.json and params.yaml, where it is on disk)."""
    pdir = config.profile_dir(study.profile)
    records = hashlib.sha256()
    for p in ondisk.record_files(pdir):
        records.update(p.relative_to(pdir).as_posix().encode() + p.read_bytes())
    code = hashlib.sha256()
    for p in sorted(config.PACKAGE_DIR.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".j2", ".json", ".css"):
            code.update(p.relative_to(config.PROJECT_ROOT).as_posix().encode() + p.read_bytes())
    return {
        "the parameter file": hashlib.sha256(study.text.encode()).hexdigest(),
        "the runs' records": records.hexdigest(),
        "the analyses notebook": hashlib.sha256(
            (config.NOTEBOOKS / "analyses.ipynb").read_bytes()
        ).hexdigest(),
        "the package's code": code.hexdigest(),
        "the profile compared with": counterpart.key_part(
            list(study.spec.report.get("compare_with") or []), pdir
        ),
    }


def changed_parts(old: str, new: dict) -> str:
    """Why the report is rendered again, in words ('' when nothing it is made of changed)."""
    try:
        before = json.loads(old)
    except ValueError:
        before = None
    if not isinstance(before, dict):
        return "its last render recorded no parts to compare"
    changed = [part for part, digest in new.items() if before.get(part) != digest]
    if not changed:
        return ""
    said = f"{', '.join(changed[:-1])} and {changed[-1]}" if len(changed) > 1 else changed[0]
    return f"{said} changed"


def counterpart_banner(behind: dict) -> str:
    """The line above the summary where the profile the report is compared with has runs that are
    not up to date with this checkout: its verdicts beside this report's are those of its last
    sweep, which other code or parameters computed."""
    n = behind["behind"]
    return (
        f"> **Compared with runs out of date:** {n} of the {behind['runs']} runs of **{plain(behind['profile'])}**, "
        f"the profile this report compares its verdicts with, {'is' if n == 1 else 'are'} not up to date with "
        f"this checkout (first: {plain(behind['first'])}): the comparison shows the verdicts of its last sweep. "
        f"`{behind['command']}` brings {'it' if n == 1 else 'them'} up to date."
    )


def _first_few(runs: list[tuple[str, str]], show) -> str:
    """`show(run, why)` of the first three runs, then how many more."""
    more = f"; and {len(runs) - 3} more" if len(runs) > 3 else ""
    return "; ".join(show(name, why) for name, why in runs[:3]) + more


def _in_the_run(why: str) -> str:
    """'metrics.json: checksum mismatch ...' for '/abs/.../runs/transfer/x/metrics.json: checksum ...'."""
    head, sep, rest = why.partition(": ")
    return f"{Path(head).name}{sep}{rest}" if sep and "/" in head else why


def incomplete_banner(incomplete: list[tuple[str, str]], total: int, params_path) -> str:
    """The line above the summary of a report rendered while runs are incomplete: a file of theirs
    no longer matches the checksum their record holds (edited, truncated), or their last execution
    stopped. The tables hold what the last sweep recorded of them; the line says which and why."""
    shown = _first_few(incomplete, lambda name, why: f"{name}: {plain(_in_the_run(why))}")
    n = len(incomplete)
    return (
        f"> **Incomplete:** {n} of the {total} runs this report shows {'is' if n == 1 else 'are'} not complete on "
        f"disk: a file no longer matches the checksum its run recorded, or the last execution stopped "
        f"({shown}). The tables hold what the last sweep recorded of {'it' if n == 1 else 'them'}. "
        f"`aestudy run {params_path}` executes {'it' if n == 1 else 'them'} again."
    )


def stale_banner(stale: list[tuple[str, str]], total: int, params_path, unused: int = 0) -> str:
    """The line above the summary of a report rendered from runs that are out of date (their
    notebook, parameters, upstream runs, data or imported code changed after they ran): how many,
    which (the first few, each with why), whether their last results are shown, and the command
    that updates them. `unused`: how many of them the tables do not count as usable (failed or
    skipped by the last `run`, as `--no-retrain` does: the sections leave their results out)."""
    shown = _first_few(stale, lambda name, why: f"{name} ({plain(why)})")
    n = len(stale)
    if not unused:
        results = f"{'Its' if n == 1 else 'Their'} last results are shown."
    else:  # a stale run the last `run` did not complete: `--no-retrain` fails it, its dependents skip
        them = "it" if unused == 1 else "them"
        recorded = (
            f"the last `run` recorded {them} as failed or skipped (`--no-retrain` executes no stale run)"
        )
        if unused == n:
            results = f"{'Its' if n == 1 else 'Their'} results are left out: {recorded}."
        else:
            results = f"The results of {unused} of them are left out: {recorded}; the others' last results are shown."
    return (
        f"> **Out of date:** {n} of the {total} runs this report shows "
        f"{'is' if n == 1 else 'are'} stale: "
        + (
            f"what it was computed from changed after it ran ({shown}). {results} "
            f"`aestudy run {params_path}` brings it up to date."
            if n == 1
            else f"what they were computed from changed after they ran ({shown}). {results} "
            f"`aestudy run {params_path}` brings them up to date."
        )
    )


def unused_runs(pdir: Path, names) -> int:
    """How many of the runs `names` ("stage/run_id") the profile's tables hold with a status
    whose outputs are not used (failed, skipped), though their folders are complete."""
    import pandas as pd

    statuses: dict[str, str] = {}
    for csv in ondisk.tables_dir(pdir).glob("*.csv"):
        with contextlib.suppress(OSError, ValueError, KeyError, pd.errors.ParserError):
            table = pd.read_csv(csv, usecols=list(ondisk.TABLE_COLUMNS), dtype=str)
            statuses.update({f"{csv.stem}/{r}": s for r, s in zip(table["run_id"], table["status"])})
    return sum(statuses.get(name, ondisk.OK[0]) not in ondisk.OK for name in names)


def check_has_runs(study) -> None:
    """ParamsError (one line) when the profile has no runs: checked before anything is written."""
    pdir = config.profile_dir(study.profile)
    if not ondisk.runs_dir(pdir).is_dir():
        raise ParamsError(f"{pdir}: no runs to render; run `python -m lib run {study.path}` first")


def render(
    study,
    pdf: bool = True,
    if_changed: bool = False,
    stale: list[tuple[str, str]] = (),
    unplanned: list[str] = (),
    counterpart_behind: dict | None = None,
    incomplete: list[tuple[str, str]] = (),
) -> dict | None:
    """Write reports/<profile>/report.html (and .pdf); returns their paths and timings. With
    `if_changed` (what `run` does), skip when it was rendered from exactly these runs and code.
    `stale`: (run, why) of each run that is out of date (the runner's `status` says which; the
    report cannot tell), said above the summary. `unplanned`: the run folders ("stage/run_id") the
    parameter file no longer plans: the report leaves them out (its tables never held them).
    `counterpart_behind`: how many runs of the profile the report is compared with are not up to
    date with this checkout (the command's `_counterpart_behind`), said above the summary.
    `incomplete`: (run, why) of each run whose files fail their checksums or whose last execution
    stopped (`status` says "incomplete"), said above the summary too."""
    import papermill as pm

    check_has_runs(study)
    pdir = config.profile_dir(study.profile)
    parts = report_key(study)
    parts["the stale runs"] = hashlib.sha256(repr(sorted(name for name, _ in stale)).encode()).hexdigest()
    parts["the unplanned runs"] = hashlib.sha256(repr(sorted(unplanned)).encode()).hexdigest()
    parts["the incomplete runs"] = hashlib.sha256(repr(sorted(incomplete)).encode()).hexdigest()
    parts["the compared profile's runs not up to date"] = hashlib.sha256(
        repr(sorted((counterpart_behind or {}).items())).encode()
    ).hexdigest()
    key = json.dumps(parts, indent=1)
    stamp = pdir / "report.key"
    why = ""
    if if_changed and (pdir / "report.html").exists() and stamp.exists():
        why = changed_parts(stamp.read_text(), parts)
        if not why and pdf and not (pdir / "report.pdf").exists():  # only the PDF is missing: print it
            return _print_pdf_only(pdir)
        if not why:
            print(f"report: {config.relative(pdir / 'report.html')} is up to date", file=sys.stderr)
            _say_verdicts(pdir)
            return None
    check_tools()
    start = time.perf_counter()
    left_out = set(unplanned)
    runs = [r for r in ondisk.run_folders(pdir) if f"{r['stage']}/{r['run_id']}" not in left_out]
    print(  # the render takes seconds (a kernel for the analyses, then Chromium for the PDF): said as it starts
        f"report: rendering {config.relative(pdir / 'report.html')}{' and report.pdf' if pdf else ''} "
        f"from {len(runs)} run{'s' if len(runs) != 1 else ''}",
        file=sys.stderr,
    )
    analyses_out = pdir / "analyses.ipynb"
    with _this_checkout(pdir / KERNEL_LOG), _bad_input_as_one_line():
        pm.execute_notebook(
            str(config.NOTEBOOKS / "analyses.ipynb"),
            str(analyses_out),
            parameters={"profile_dir": str(pdir), "report_rules": dict(study.spec.report)},
            kernel_name="python3",
            language="python",
            cwd=str(config.PROJECT_ROOT),
            progress_bar=False,
            request_save_on_cell_execute=False,  # written once at its end (or failure): 2 s less
            kernel_manager_class=KERNEL_MANAGER,
        )
    parts = [nbformat.read(analyses_out, as_version=4)]
    banners = [counterpart_banner(counterpart_behind)] if counterpart_behind else []  # page 1's comparison
    if stale:
        unused = unused_runs(pdir, [name for name, _ in stale])
        banners.append(stale_banner(list(stale), len(runs), config.relative(study.path), unused))
    if incomplete:
        banners.append(incomplete_banner(list(incomplete), len(runs), config.relative(study.path)))
    if banners:  # under the title, above the summary
        cells = parts[0].cells
        at = next(
            (i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## ")), 0
        )
        cells[at:at] = [markdown_cell(b) for b in banners]
    captions = numbered_so_far(parts[0])
    for stage in (s for s in study.stages() if STAGES[s].in_report):
        done = [r for r in runs if r["stage"] == stage]
        if done and all(r["status"] == "ok" for r in done):
            parts += [
                number_chapter(nbformat.read(Path(r["dir"]) / f"{stage}.ipynb", as_version=4), captions)
                for r in done
            ]
        else:
            why = "; ".join(f"{r['status']}: {r['error']}" for r in done if r["status"] != "ok") or "not run"
            parts.append(
                nbformat.v4.new_notebook(
                    cells=[
                        markdown_cell(
                            f"# {stage.capitalize()}\n\n**The {stage} run did not complete:** {plain(why)}"
                        )
                    ]
                )
            )
    parts.append(nbformat.v4.new_notebook(cells=appendix(study, pdir, runs, captions)))
    nb = combine(parts)
    html = export_html(
        nb, pdir / "report.html", title=f"{about.page_title(study.data.get('dataset'))} ({study.profile})"
    )
    out = {"html": html, "pdf": None, "seconds": 0.0}
    removed = _remove_old_pdf(pdir)  # the new HTML exists: no PDF of the render before may outlive it
    if pdf:
        out["pdf"] = _print_pdf(html, pdir)
        removed = removed and not out["pdf"]
    atomic_write_bytes(stamp, key.encode())
    out["seconds"] = time.perf_counter() - start
    print(
        f"report: {config.relative(html)}"
        + (f" and {out['pdf'].name}" if out["pdf"] else "")
        + f" ({out['seconds']:.1f} s)"
        + (f"; rendered again: {why}" if why else "")
        + (
            "; report.pdf (from an earlier render) removed, so that no PDF older than the HTML is left"
            if removed
            else ""
        ),
        file=sys.stderr,
    )
    _say_verdicts(pdir)
    return out


def _remove_old_pdf(pdir: Path) -> bool:
    """A render without its PDF (`--no-pdf`, or no Chromium) leaves no PDF of an earlier render
    beside the new HTML, where it would be read as the current report."""
    try:
        (pdir / "report.pdf").unlink()
    except FileNotFoundError:
        return False
    return True


def _print_pdf(html: Path, pdir: Path) -> Path | None:
    """report.pdf printed from `html`, or None with a warning: no Chromium, or one that failed (the
    HTML is the report; a PDF is its print)."""
    try:
        return export_pdf(html, pdir / "report.pdf")
    except (PdfToolMissing, RuntimeError) as exc:
        print(f"warning: {exc}", file=sys.stderr)
        return None


def _print_pdf_only(pdir: Path) -> dict | None:
    """The HTML is up to date and only its PDF is missing (the render before had `--no-pdf`)."""
    start = time.perf_counter()
    html = pdir / "report.html"
    out = {"html": html, "pdf": _print_pdf(html, pdir), "seconds": 0.0}
    if not out["pdf"]:
        print(f"report: {config.relative(html)} is up to date", file=sys.stderr)
        _say_verdicts(pdir)
        return None
    out["seconds"] = time.perf_counter() - start
    print(
        f"report: {config.relative(html)} is up to date; printed its report.pdf ({out['seconds']:.1f} s)",
        file=sys.stderr,
    )
    _say_verdicts(pdir)
    return out


def _say_verdicts(pdir: Path) -> None:
    """The command's last line: the report's verdicts as counted in its verdicts.json."""
    line = console.verdicts_line(pdir)
    if line:
        print(line, file=sys.stderr)
