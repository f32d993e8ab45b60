"""Render a profile's report from the runs already on disk (never trains anything).

report = analyses notebook (title, summary, one section per experiment; executed now over
the runs' tables) + the theory run's executed notebook + a provenance appendix, exported
to one self-contained `report.html` and printed to `report.pdf`.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat

from . import artifacts, report
from .params import ParamsError, Study

TITLE = "MNIST autoencoder study"


def _md(text: str):
    return nbformat.v4.new_markdown_cell(text)


def _runs(pdir: Path) -> list[dict]:
    """Every run directory of the profile with its status, whatever runs.json says."""
    rows = []
    for stage_dir in sorted((pdir / "runs").glob("*")):
        for run_dir in sorted(p for p in stage_dir.glob("*") if p.is_dir()):
            record, reason = artifacts.verify_completion(run_dir)
            row = {"stage": stage_dir.name, "run_id": run_dir.name, "dir": run_dir}
            if record is not None:
                row.update(status="ok", seconds=record.get("seconds", 0.0), error="")
            elif (run_dir / artifacts.FAILED).exists():
                failed = artifacts.read_json(run_dir / artifacts.FAILED)
                row.update(status=failed.get("status", "failed"), seconds=failed.get("seconds", 0.0),
                           error=failed.get("error", ""))
            else:
                row.update(status="incomplete", seconds=0.0, error=reason)
            res = run_dir / "resources.json"
            row["peak_rss_mb"] = artifacts.read_json(res).get("peak_rss_mb") if res.exists() and record else None
            rows.append(row)
    return rows


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def appendix(study: Study, pdir: Path, runs: list[dict]) -> list:
    from . import data

    env = report.environment_info()
    d = study.spec.data
    try:
        sums = data.file_checksums(d.dataset, d.data_dir)
    except OSError:
        sums = {}
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    cells = [_md("## Appendix: provenance\n\n"
                 f"- **Parameter file:** `{study.path}` (profile `{study.profile}`), as run below\n"
                 f"- **Git commit:** `{env['git_commit']}`"
                 f"{' (working tree dirty: uncommitted changes)' if env['git_dirty'] is True else ''}\n"
                 f"- **Python:** {env['python']} on {env['platform']}\n"
                 f"- **Packages:** {versions}\n"
                 f"- **Device at render time:** {env['device']}"
                 f"{' (' + env['device_name'] + ')' if env.get('device_name') else ''}\n"
                 f"- **Rendered:** {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n")]
    cells.append(_md("### Parameter file as run\n\n```yaml\n" + study.text.rstrip() + "\n```"))
    cells.append(_md("### Dataset checksums (sha256)\n\n| file | sha256 |\n| --- | --- |\n" +
                     "\n".join(f"| `{k}` | `{v}` |" for k, v in sums.items())))
    lines = ["### Runs\n", "| stage | run | status | wall time (s) | peak memory (MiB) | executed notebook | error |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        status = r["status"] if r["status"] == "ok" else f"**{r['status'].upper()}**"
        mem = f"{r['peak_rss_mb']:.0f}" if r.get("peak_rss_mb") else ""
        nb = Path(r["dir"]) / f"{r['stage']}.ipynb"
        lines.append(f"| {r['stage']} | {r['run_id']} | {status} | {r['seconds']:.1f} | {mem} | "
                     f"`{nb.relative_to(pdir.parent.parent) if nb.is_relative_to(pdir.parent.parent) else nb}` | "
                     f"{_cell(r['error'])} |")
    cells.append(_md("\n".join(lines)))
    return cells


def render(study: Study, pdf: bool = True) -> dict:
    """Write reports/<profile>/report.html (and .pdf); returns their paths and timings."""
    import papermill as pm

    from .pipeline import KERNEL_MANAGER, NOTEBOOKS, REPO_ROOT, profile_dir

    pdir = profile_dir(study)
    if not (pdir / "runs").is_dir():
        raise ParamsError(f"{pdir}: no runs to render; run `python -m lib run {study.path}` first")
    start = time.perf_counter()
    runs = _runs(pdir)
    analyses_out = pdir / "analyses.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / "analyses.ipynb"), str(analyses_out),
                        parameters={"profile_dir": str(pdir)}, kernel_name="python3",
                        language="python", cwd=str(REPO_ROOT), progress_bar=False,
                        kernel_manager_class=KERNEL_MANAGER)
    parts = [nbformat.read(analyses_out, as_version=4)]
    theory = [r for r in runs if r["stage"] == "theory"]
    if theory and theory[0]["status"] == "ok":
        parts.append(nbformat.read(Path(theory[0]["dir"]) / "theory.ipynb", as_version=4))
    elif "theory" in study.stages():
        why = theory[0]["error"] if theory else "not run"
        parts.append(nbformat.v4.new_notebook(cells=[_md(
            f"# Theory\n\n**The theory run did not complete ({theory[0]['status'] if theory else 'missing'}):** "
            f"{why}")]))
    parts.append(nbformat.v4.new_notebook(cells=appendix(study, pdir, runs)))
    nb = report.combine(parts)
    html = report.export_html(nb, pdir / "report.html", title=f"{TITLE} ({study.profile})")
    out = {"html": html, "pdf": None, "seconds": 0.0}
    if pdf:
        try:
            out["pdf"] = report.export_pdf(html, pdir / "report.pdf")
        except report.PdfToolMissing as exc:
            print(f"warning: {exc}", file=sys.stderr)
    out["seconds"] = time.perf_counter() - start
    print(f"report: {html}" + (f" and {out['pdf'].name}" if out["pdf"] else "") +
          f" ({out['seconds']:.1f} s)", file=sys.stderr)
    return out
