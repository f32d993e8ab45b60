"""The rendered report of the smoke profile: sections, offline, typeset math, figures, PDF,
failed runs named, and a re-render that trains nothing."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aestudy.files import write_json
from aestudy.report import offline, render
from aestudy.report import pdf as report_pdf
from aestudy.runner import records

REPO = Path(__file__).resolve().parents[2]
SECTIONS = [
    "Summary",
    "Experiment 1: autoencoding sweep",
    "Experiment 2: latent interpolation",
    "Experiment 3: latent correlations",
    "Experiment 4: transfer learning with few labels",
    "Theory",
    "Appendix: provenance",
]
needs_chromium = pytest.mark.skipif(report_pdf.find_chromium() is None, reason="Chromium not installed")


def smoke_runs() -> int:
    """The runs params/smoke.yaml plans (14 today): counted, so that a stage added to the smoke profile
    (ARCHITECTURE.md, "How to add an experiment", step 4) changes no test here."""
    from aestudy.runner.paramfile import load_study
    from aestudy.runner.plan import plan

    return len(plan(load_study(REPO / "params" / "smoke.yaml")))


def lib_command(*args, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m lib ARGS` in the checkout, as a user types it: its exit status and output."""
    return subprocess.run(
        [sys.executable, "-m", "lib", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def headings(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", html, re.S)
    ]


def test_report_has_every_section_in_order_and_loads_nothing_external(smoke_profile):
    html = (smoke_profile["dir"] / "report.html").read_text()
    found = headings(html)
    positions = [next(i for i, h in enumerate(found) if h.startswith(s)) for s in SECTIONS]
    assert positions == sorted(positions), found
    assert offline.check_offline(html) == []
    assert "def " not in re.sub(r"<script.*?</script>", "", html, flags=re.S)  # code cells hidden


def test_appendix_holds_provenance(smoke_profile):
    html = (smoke_profile["dir"] / "report.html").read_text()
    for text in (
        "Git commit",
        "Parameter file as run",
        "train-images-idx3-ubyte",
        "torch",
        "autoencode/d5-nc1".split("/")[1],
        "executed notebook",
    ):
        assert text in html, text


@pytest.mark.slow
@needs_chromium
def test_math_is_typeset_and_every_figure_shows_offline(smoke_profile):
    dom = report_pdf.rendered_dom(smoke_profile["dir"] / "report.html")
    assert 'data-mathjax-ready="true"' in dom
    assert len(re.findall(r"<mjx-container[^>]*>\s*<svg", dom)) >= 20
    imgs = re.findall(r'<img[^>]+src="([^"]+)"', dom)
    assert len(imgs) >= 8
    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


@needs_chromium
def test_pdf_holds_every_section_and_a_sane_page_count(smoke_profile):
    pdf = smoke_profile["dir"] / "report.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for s in SECTIONS:
        assert s in flat, s
    pages = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout,
        ).group(1)
    )
    assert 5 <= pages <= 60


@pytest.mark.slow
def test_a_failed_run_is_named_as_failed_in_the_report(smoke_profile, tmp_path, monkeypatch):
    """Re-render a copy of the profile in which one transfer run failed."""
    from aestudy.runner.paramfile import load_study

    root = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], root / "smoke")
    run_dir = root / "smoke" / "runs" / "transfer" / "d10-nc1-s0"
    (run_dir / records.COMPLETE).unlink()
    write_json(run_dir / records.FAILED, {"status": "failed", "error": "RuntimeError: boom in d10"})
    monkeypatch.setenv("REPORTS_DIR", str(root))
    out = render.render(load_study(REPO / "params" / "smoke.yaml"), pdf=False)
    html = out["html"].read_text()
    assert "FAILED" in html and "RuntimeError: boom in d10" in html


@pytest.mark.slow
def test_rerender_trains_nothing_and_is_quick(smoke_profile):
    before = {p: p.stat().st_mtime_ns for p in (smoke_profile["dir"] / "runs").rglob("complete.json")}
    proc = lib_command("render", str(smoke_profile["params"]), env=smoke_profile["env"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    started = proc.stderr.splitlines()[0]  # said as it starts: a render takes seconds of silence otherwise
    assert (
        started
        == f"report: rendering {smoke_profile['dir'] / 'report.html'} and report.pdf from {smoke_runs()} runs"
    )
    # the analyses kernel's own output (ipykernel's log) goes to a file beside its notebook
    assert "IPKernelApp" not in proc.stderr and (smoke_profile["dir"] / render.KERNEL_LOG).is_file()
    after = {p: p.stat().st_mtime_ns for p in (smoke_profile["dir"] / "runs").rglob("complete.json")}
    assert before == after


@pytest.mark.slow
def test_run_with_nothing_new_leaves_the_report_as_it_is(smoke_profile):
    html = smoke_profile["dir"] / "report.html"
    before = html.stat().st_mtime_ns
    proc = lib_command("run", str(smoke_profile["params"]), env=smoke_profile["env"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{smoke_runs()} cached" in proc.stderr and "is up to date" in proc.stderr
    assert html.stat().st_mtime_ns == before


def test_a_run_that_finds_the_html_up_to_date_and_no_pdf_prints_the_pdf_alone(
    smoke_profile, tmp_path, monkeypatch
):
    """After a render with --no-pdf, `run` (which renders only what changed) prints the PDF of the
    HTML on disk, executing no analyses; with --no-pdf again it leaves everything as it is."""
    from aestudy.runner.paramfile import load_study

    root = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], root / "smoke", ignore=shutil.ignore_patterns("report.pdf"))
    monkeypatch.setenv("REPORTS_DIR", str(root))
    printed = []

    def export_pdf(html: Path, pdf: Path) -> Path:  # Chromium's seconds are not what this pins
        printed.append(html)
        pdf.write_bytes(b"%PDF")
        return pdf

    monkeypatch.setattr(render, "export_pdf", export_pdf)
    monkeypatch.setattr("papermill.execute_notebook", lambda *a, **kw: pytest.fail("the analyses executed"))
    study = load_study(REPO / "params" / "smoke.yaml")
    html = (root / "smoke" / "report.html").read_bytes()
    assert render.render(study, pdf=False, if_changed=True) is None and printed == []
    out = render.render(study, if_changed=True)
    assert printed == [root / "smoke" / "report.html"] and out["pdf"] == root / "smoke" / "report.pdf"
    assert (root / "smoke" / "report.pdf").read_bytes() == b"%PDF"
    assert (root / "smoke" / "report.html").read_bytes() == html
    assert render.render(study, if_changed=True) is None and len(printed) == 1  # now both are up to date


@pytest.mark.slow
def test_run_after_a_change_to_the_report_section_alone_renders_again_and_says_why(smoke_profile, tmp_path):
    """A stricter confidence, and a profile to compare with (a copy of the same runs, named twin):
    the runs stay cached, the report is rendered again, its abstract and each detailed verdict give
    twin's verdicts, and the command's last line counts the verdicts and says the two agree. Then
    twin's runs fall out of date, and the command and the report say so."""
    reports = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], reports / "smoke")
    shutil.copytree(
        smoke_profile["dir"], reports / "twin", ignore=shutil.ignore_patterns("report.*", "verdicts.json")
    )
    copy = reports / "twin" / "params.yaml"
    copy.write_text(copy.read_text().replace("profile: smoke", "profile: twin", 1))
    params = tmp_path / "smoke.yaml"
    text = smoke_profile["params"].read_text()
    assert "  confidence: 0.95 " in text
    params.write_text(
        text.replace("  confidence: 0.95 ", "  compare_with: [full, twin]\n  confidence: 0.9 ", 1)
    )
    assert (reports / "smoke" / "report.pdf").exists()
    proc = lib_command(
        "run", str(params), "--no-pdf", env={**smoke_profile["env"], "REPORTS_DIR": str(reports)}
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        f"{smoke_runs()} cached" in proc.stderr
        and "rendered again: the parameter file and the profile compared with changed" in proc.stderr
    )
    # rendered without its PDF: the earlier render's PDF, which no longer matches, is gone and said so
    assert "report.pdf (from an earlier render) removed" in proc.stderr
    assert not (reports / "smoke" / "report.pdf").exists()
    # twin decides by its own rules (95 %): what it decides alone or otherwise is in its line
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("verdicts: ") and "; compared with twin: " in last, last
    html = (reports / "smoke" / "report.html").read_text()
    assert "Compared with the profile <strong>twin</strong>" in html
    assert (
        "under its folder, and twin's, the profile it is compared with, each number of which its name" in html
    )
    assert (
        "not up to date" not in proc.stderr and "Compared with runs out of date" not in html
    )  # twin is current
    assert html.count('class="verdict-line verdict-counterpart"') == len(
        json.loads((reports / "smoke" / "verdicts.json").read_text())["claims"]
    )
    # twin's file now plans what its theory run did not run: the comparison rests on a run out of
    # date, which the command and the report say, with the command that brings it up to date
    copy.write_text(copy.read_text().replace("n_samples: 2001", "n_samples: 1001"))
    proc = lib_command(
        "render", str(params), "--no-pdf", env={**smoke_profile["env"], "REPORTS_DIR": str(reports)}
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        f"warning: 1 of the {smoke_runs()} runs of twin, the profile this report is compared with, is not up to "
        "date with this checkout (first: theory/all: stale, parameter n_samples: 2001 -> 1001)"
    ) in proc.stderr
    html = (reports / "smoke" / "report.html").read_text()
    said = re.search(
        r"Compared with runs out of date:</strong> 1 of the \d+ runs of <strong>twin</strong>.*?</p>",
        html,
        re.S,
    )
    assert said and "is not up to date" in said[0] and "theory/all" in said[0], said
    assert html.index("Rendered ") < html.index("Compared with runs out of date") < html.index(">Summary<")
    assert "aestudy run " in said[0] and "twin/params.yaml" in said[0]  # no params/twin.yaml: the file it ran


@pytest.mark.slow
def test_a_report_rendered_from_stale_runs_says_so_above_its_summary(smoke_profile, tmp_path):
    """`render` after a parameter changed (the theory run's n_samples): the command warns, and the
    report says above its summary how many runs are stale, which, why, and the command to update
    them; the runs themselves are left as they are. Its `report:` rules are the file's."""
    reports = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], reports / "smoke")
    params = tmp_path / "smoke.yaml"
    text = smoke_profile["params"].read_text().replace("n_samples: 2001", "n_samples: 1001")
    params.write_text(text.replace("  confidence: 0.95 ", "  confidence: 0.8 ", 1))  # a report: rule too
    before = (reports / "smoke" / "runs" / "theory" / "all" / "complete.json").read_bytes()
    proc = lib_command(
        "render", str(params), "--no-pdf", env={**smoke_profile["env"], "REPORTS_DIR": str(reports)}
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "warning: 1 run is stale (first: theory/all: parameter n_samples: 2001 -> 1001)" in proc.stderr
    html = (reports / "smoke" / "report.html").read_text()
    said = re.search(
        rf"Out of date:</strong> 1 of the {smoke_runs()} runs this report shows is stale[^<]*", html
    )
    assert said and "theory/all" in said[0] and "aestudy run" in html, said
    assert html.index("Rendered ") < html.index("Out of date") < html.index(">Summary<")  # under the title
    assert (reports / "smoke" / "runs" / "theory" / "all" / "complete.json").read_bytes() == before
    # the rendered-from file's report: rules decide, as its appendix says (not the runs' copy's)
    assert "80 % t-interval" in html and "95 % t-interval" not in html
    # the appendix shows the file the runs were made with, then how the rendered-from file differs
    shown = html[html.index("Parameter file as run") :]
    assert "n_samples: 2001" in shown and "rendered from" in shown
    assert re.search(r"-\s+params: \{seed: 0, n_samples: 2001\}", shown), shown[:3000]
    assert re.search(r"\+\s+params: \{seed: 0, n_samples: 1001\}", shown), shown[:3000]


@pytest.mark.slow
def test_a_report_rendered_while_a_runs_file_fails_its_checksum_says_so_above_its_summary(
    smoke_profile, tmp_path
):
    """A metrics.json edited after its run: `status` calls the run incomplete; `render` rendered it
    without a word until 2026-12-08. Now the command warns and the report says which run, which file
    and why, above its summary; nothing on disk is touched."""
    reports = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], reports / "smoke")
    metrics = reports / "smoke" / "runs" / "reference" / "all" / "metrics.json"
    metrics.write_text(metrics.read_text().replace("{", '{"edited": 1, ', 1))
    edited = metrics.read_bytes()
    proc = lib_command(
        "render",
        str(smoke_profile["params"]),
        "--no-pdf",
        env={**smoke_profile["env"], "REPORTS_DIR": str(reports)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "warning: 1 run is incomplete (first: reference/all: " in proc.stderr
    assert "checksum mismatch" in proc.stderr
    html = (reports / "smoke" / "report.html").read_text()
    said = re.search(
        r"Incomplete:</strong> 1 of the \d+ runs this report shows is not complete on disk[^<]*", html
    )
    assert said and "reference/all: metrics.json: checksum mismatch" in said[0], said
    assert html.index("Incomplete:") < html.index(">Summary<")
    assert metrics.read_bytes() == edited


def test_the_incomplete_banner_names_three_runs_with_the_file_inside_each_and_counts_the_rest():
    from aestudy.report.render import incomplete_banner

    why = "/r/smoke/runs/transfer/x/metrics.json: checksum mismatch (truncated or modified)"
    line = incomplete_banner([(f"transfer/d{d}", why) for d in (5, 10, 15, 20)], 14, "params/smoke.yaml")
    assert line.startswith("> **Incomplete:** 4 of the 14 runs this report shows are not complete on disk")
    assert (
        "transfer/d5: metrics.json: checksum mismatch (truncated or modified)" in line and "/r/" not in line
    )
    assert "transfer/d15" in line and "transfer/d20" not in line and "; and 1 more" in line
    assert line.endswith("`aestudy run params/smoke.yaml` executes them again.")
    one = incomplete_banner([("theory/all", "interrupted")], 14, "params/smoke.yaml")
    assert "1 of the 14 runs this report shows is not complete" in one and "(theory/all: interrupted)" in one


@pytest.mark.slow
def test_a_run_folder_the_parameter_file_no_longer_plans_is_left_out_of_the_report(smoke_profile, tmp_path):
    """An earlier plan's folder (here a second theory run, `theory/s9`): `status` names it unplanned,
    and the report neither counts it among its runs nor prints it as a second theory chapter."""
    reports = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], reports / "smoke")
    shutil.copytree(
        reports / "smoke" / "runs" / "theory" / "all", reports / "smoke" / "runs" / "theory" / "s9"
    )
    env = {**smoke_profile["env"], "REPORTS_DIR": str(reports)}
    status = lib_command("status", str(smoke_profile["params"]), env=env, timeout=120)
    assert re.search(r"theory/s9\s+unplanned", status.stdout), status.stdout
    proc = lib_command("render", str(smoke_profile["params"]), "--no-pdf", env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (reports / "smoke" / "report.html").read_text()
    assert f"The {smoke_runs()} runs of the profile by stage" in html
    assert "theory/s9" not in html and ">s9<" not in html
    assert sum(h == "Theory" for h in headings(html)) == 1, headings(html)


@pytest.mark.slow
def test_a_damaged_table_stops_the_render_with_one_line_and_keeps_the_report(smoke_profile, tmp_path):
    reports = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], reports / "smoke")
    (reports / "smoke" / "tables" / "autoencode.csv").write_bytes(bytes(range(256)))
    before = (reports / "smoke" / "report.html").read_bytes()
    proc = lib_command(
        "render", str(smoke_profile["params"]), env={**smoke_profile["env"], "REPORTS_DIR": str(reports)}
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    started, *lines = proc.stderr.strip().splitlines()  # the render's start line, then one line: the error
    assert started.startswith("report: rendering ") and started.endswith(" runs"), started
    assert len(lines) == 1 and "tables/autoencode.csv: not a table the runner wrote" in lines[0], lines
    assert (reports / "smoke" / "report.html").read_bytes() == before


HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "</textarea><b>bold?</b>",
    "[link](javascript:window.__pwned=3)",
]


@pytest.mark.slow
@needs_chromium
def test_strings_from_outside_reach_the_html_as_text(smoke_profile, tmp_path, monkeypatch):
    """Parameter-file values and comments and a run's error message, rendered: the browser's DOM
    holds them as text; none becomes an element, an attribute or a link."""
    from aestudy.runner.paramfile import load_study

    root = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], root / "smoke")
    run_dir = root / "smoke" / "runs" / "transfer" / "d5-nc1-s1"
    (run_dir / records.COMPLETE).unlink()
    write_json(run_dir / records.FAILED, {"status": "failed", "error": "RuntimeError: " + " ".join(HOSTILE)})
    params = tmp_path / "smoke.yaml"
    text = (REPO / "params" / "smoke.yaml").read_text().replace("data_dir: data", f"data_dir: '{HOSTILE[1]}'")
    params.write_text(f"# {HOSTILE[0]} {HOSTILE[2]} ```\n" + text)
    monkeypatch.setenv("REPORTS_DIR", str(root))
    out = render.render(load_study(params), pdf=False)
    dom = report_pdf.rendered_dom(out["html"])
    assert (
        "__pwned" not in re.sub(r"&lt;|&gt;|&amp;|&quot;", "", dom).split("<body", 1)[0]
    )  # nothing in <head>
    body = dom.split("<body", 1)[1]
    assert not re.search(r"<script[^>]*>[^<]*__pwned", body) and not re.search(r"<img[^>]*onerror", body)
    assert "<b>bold?</b>" not in body and 'href="javascript:' not in body
    for s in ("&lt;script&gt;window.__pwned = 1&lt;/script&gt;", "&lt;/textarea&gt;&lt;b&gt;bold?&lt;/b&gt;"):
        assert s in body, s  # shown, as text


def test_a_rerender_names_what_changed_since_the_last_one():
    now = {"the parameter file": "1", "the runs' records": "2", "the package's code": "3"}
    assert render.changed_parts(json.dumps(now), now) == ""
    assert (
        render.changed_parts(json.dumps({**now, "the parameter file": "0"}), now)
        == "the parameter file changed"
    )
    both = {**now, "the runs' records": "0", "the package's code": "0"}
    assert render.changed_parts(json.dumps(both), now) == "the runs' records and the package's code changed"
    assert (
        render.changed_parts("0123abcd\nstale theory/all", now)
        == "its last render recorded no parts to compare"
    )


def test_the_runs_appendix_is_one_row_per_stage_with_every_run_folded_below():
    from aestudy.report.appendix import runs_markdown
    from aestudy.report.text import Captions

    runs = [
        {
            "stage": "autoencode",
            "run_id": f"d{d}-nc1-s0",
            "status": "ok",
            "seconds": s,
            "peak_rss_mb": m,
            "dir": f"reports/x/runs/autoencode/d{d}-nc1-s0",
            "error": "",
        }
        for d, s, m in ((5, 10.0, 1500.0), (10, 30.0, 1600.0))
    ]
    runs.append(
        {
            "stage": "transfer",
            "run_id": "d5-nc1-s0",
            "status": "failed",
            "seconds": 2.0,
            "peak_rss_mb": None,
            "dir": "reports/x/runs/transfer/d5-nc1-s0",
            "error": "RuntimeError: boom",
        }
    )
    md = runs_markdown(runs, Captions())
    assert "| autoencode | 2 | 2 | 40 | d10-nc1-s0 (30 s) | 1,600 |" in md
    assert "| transfer | 1 | 0 | 2 | d5-nc1-s0 (2 s) | – |" in md
    assert "Not ok: transfer/d5-nc1-s0 **FAILED** (RuntimeError: boom)." in md
    folded = md[md.index('<details class="every-run">') :]
    assert "\n" not in folded and folded.count("<tr>") == 4 and folded.endswith("</table></details>")
    assert ">1,600</td>" in folded and "e+03" not in folded  # memory as a whole number of MiB
    assert folded.index("d5-nc1-s0") < folded.index("d10-nc1-s0")  # numbers in a run id sort as numbers
    assert '<a href="runs/autoencode/d5-nc1-s0/autoencode.ipynb">' in folded  # relative to the report


def test_the_runs_appendix_renders_when_no_run_measured_its_memory():
    """A sweep whose every run was cached records no memory (None throughout): the appendix still
    renders, with the memory column empty."""
    from aestudy.report.appendix import runs_markdown
    from aestudy.report.text import Captions

    runs = [
        {
            "stage": "theory",
            "run_id": "all",
            "status": "cached",
            "seconds": 0.0,
            "dir": "r/theory/all",
            "error": "",
        },
        {
            "stage": "theory",
            "run_id": "b",
            "status": "cached",
            "seconds": 0.0,
            "peak_rss_mb": None,
            "dir": "r/b",
        },
    ]
    md = runs_markdown(runs, Captions())
    assert "| theory | 2 | 0 | 0 | all (0 s) | – |" in md


def test_render_without_its_packages_names_the_one_missing_in_one_line(
    tmp_reports, fake_mnist, monkeypatch, capsys
):
    """A machine set up only to run (a lent GPU image) may lack what the report is rendered with:
    `render` then names the package in one line and exits 1 before any work, and the runs stay."""
    from aestudy import cli
    from aestudy.report import html

    runs = tmp_reports / "smoke" / "runs"
    runs.mkdir(parents=True)
    find_spec, files = html.importlib.util.find_spec, html.importlib.resources.files
    monkeypatch.setattr(
        html.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "nbconvert" else find_spec(name, *a),
    )
    assert cli.main(["render", "params/smoke.yaml"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: rendering the report needs nbconvert, not installed for ")
    assert "pip install nbconvert" in err and "the runs are kept" in err
    assert not any(runs.iterdir()) and not list(runs.parent.glob("report.*"))

    monkeypatch.setattr(html.importlib.util, "find_spec", find_spec)

    def no_mathjax(package):
        if package == "mathjax":
            raise ModuleNotFoundError(package)
        return files(package)

    monkeypatch.setattr(html.importlib.resources, "files", no_mathjax)
    with pytest.raises(html.RenderToolMissing, match=r"needs MathJax 3, .*django-static-mathjax==3\.2\.2\.1"):
        html.check_tools()


def test_the_runs_caption_says_when_the_runs_were_computed_beside_their_summed_times(tmp_path):
    """Run times overlap on several workers, so the table's column is a sum, named so; the caption
    gives the time with a run computing, read from the records: the stretches of runs, not the pauses
    between commands, set against the profile's time budget."""
    import json

    from aestudy.report.appendix import runs_markdown
    from aestudy.report.text import Captions

    runs = []
    for name, seconds, finished in (
        ("a", 60.0, "2026-12-06T01:10:00+0000"),
        ("b", 90.0, "2026-12-06T01:12:30+0000"),
    ):
        run_dir = tmp_path / name
        run_dir.mkdir()
        (run_dir / "complete.json").write_text(json.dumps({"finished": finished}))
        runs.append(
            {"stage": "autoencode", "run_id": name, "status": "ok", "seconds": seconds, "dir": run_dir}
        )
    md = runs_markdown(runs, Captions())
    assert "| autoencode | 2 | 2 | 150 |" in md and "summed run time (s)" in md
    assert (
        "The 2 ok runs were computed between 2026-12-06 01:09 and 2026-12-06 01:12 (UTC+0000): 3 min 30 s"
        in md
    )
    assert "time budget" not in md  # none declared
    # set against the profile's time budget, where its report: section declares one: the choices said
    # "what a 2-core CPU trains within the profile's time budget" of a sweep that took 22 min against 15
    over = runs_markdown(runs, Captions(), budget_minutes=3)
    assert (
        "The profile's time budget (report: time_budget_minutes) is 3 min: that time is 30 s longer" in over
    )
    assert "is 4 min: that time is within it." in runs_markdown(runs, Captions(), budget_minutes=4)
    # a run computed hours later (another command): its stretch counts, the pause between does not
    run_dir = tmp_path / "c"
    run_dir.mkdir()
    (run_dir / "complete.json").write_text(json.dumps({"finished": "2026-12-06T04:00:20+0000"}))
    runs.append({"stage": "autoencode", "run_id": "c", "status": "ok", "seconds": 20.0, "dir": run_dir})
    md = runs_markdown(runs, Captions(), budget_minutes=3)
    assert (
        "The 3 ok runs were computed between 2026-12-06 01:09 and 2026-12-06 04:00 (UTC+0000), in 2 stretches "
        "with a run computing (3 min 30 s, 20 s; a pause of over 2 min with none ends a stretch): 3 min 50 s in "
        "all, of the 171 min 20 s from the first start to the last end."
    ) in md
    assert "is 3 min: their total is 50 s longer" in md
    # several commands' stretches are not one sweep from nothing, which the budget is for
    assert "The budget is for one sweep from nothing; stretches of several commands" in md
    assert "sweep from nothing" not in over


def test_runs_trained_together_count_their_job_s_whole_time_not_their_share(tmp_path):
    """--seeds-together records each run's share of its job's time (job_seconds / n); the job
    computed for all of it, so two back-to-back jobs of 10 min are 20 min of one stretch."""
    import json

    from aestudy.report.appendix import computed_span

    runs = []
    for job, finished in ((0, "2026-12-06T10:10:00+0000"), (1, "2026-12-06T10:20:00+0000")):
        for seed in range(3):
            run_dir = tmp_path / f"j{job}-s{seed}"
            run_dir.mkdir()
            (run_dir / "complete.json").write_text(json.dumps({"finished": finished, "job_seconds": 600.0}))
            runs.append({"status": "ok", "seconds": 200.0, "dir": run_dir})
    said = computed_span(runs, budget_minutes=15)
    assert ": 20 min 0 s from the first start to the last end." in said, said
    assert "that time is 5 min 0 s longer" in said


def test_a_render_whose_pdf_fails_warns_and_leaves_no_pdf_of_the_render_before(
    smoke_profile, tmp_path, monkeypatch
):
    """Chromium missing or failing: the HTML is the report, the command warns in one line, and the
    PDF of the render before is gone (not left beside a newer HTML); the same in a PDF-only print."""
    from aestudy.report import pdf as pdf_module
    from aestudy.runner.paramfile import load_study

    root = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], root / "smoke")
    monkeypatch.setenv("REPORTS_DIR", str(root))
    for failure in (
        pdf_module.PdfToolMissing("report.pdf: no Chromium found"),
        RuntimeError("chromium exited with code 1"),
    ):

        def export_pdf(html, pdf, failure=failure):
            raise failure

        monkeypatch.setattr(render, "export_pdf", export_pdf)
        (root / "smoke" / "report.pdf").write_bytes(b"%PDF old")
        out = render._print_pdf_only(root / "smoke")  # the HTML up to date, its PDF asked for
        assert out is None and (root / "smoke" / "report.pdf").read_bytes() == b"%PDF old"  # nothing newer
    # the analyses notebook as the copy holds it (its execution is not what this pins)
    monkeypatch.setattr("papermill.execute_notebook", lambda *a, **kw: None)
    out = render.render(load_study(REPO / "params" / "smoke.yaml"))
    assert out["pdf"] is None and not (root / "smoke" / "report.pdf").exists()


def test_no_pdf_reaches_the_render_from_run_and_render(smoke_profile, tmp_path, monkeypatch):
    from aestudy import cli

    root = tmp_path / "reports"
    shutil.copytree(smoke_profile["dir"], root / "smoke")
    monkeypatch.setenv("REPORTS_DIR", str(root))
    seen = []
    monkeypatch.setattr(render, "render", lambda study, **kw: seen.append(kw["pdf"]))
    params = str(REPO / "params" / "smoke.yaml")
    assert cli.main(["render", params, "--no-pdf"]) == 0 and cli.main(["render", params]) == 0
    assert cli.main(["run", params, "--no-pdf"]) == 0 and cli.main(["run", params]) == 0
    assert seen == [False, True, False, True]


def test_each_figure_image_carries_the_caption_that_follows_it_as_its_alt_text():
    from aestudy.report.html import describe_images

    placeholder = '<img alt="No description has been provided for this image" src="data:x"/>'
    cell = '<div class="jp-Cell jp-CodeCell">'
    body = (
        cell
        + placeholder
        + '<div><p class="caption figure-caption"><b>Figure 1.</b> Error &amp; <i>d</i>: "two" lines.</p></div>'
        + cell
        + placeholder
        + "<p>no caption in this cell</p>"
        + cell
        + placeholder
        + placeholder
        + '<p class="caption figure-caption"><b>Figure 2.</b> Two images.</p>'
        + cell
        + placeholder
        + '<div class="jp-Cell jp-MarkdownCell"><p class="caption figure-caption"><b>Figure 3.</b> Below.</p>'
    )
    out = describe_images(body)
    assert 'alt="Figure 1. Error &amp; d: &quot;two&quot; lines."' in out
    assert out.count('alt="Figure"') == 1 and out.count('alt="Figure 2. Two images."') == 2
    assert 'alt="Figure 3. Below."' in out  # a caption that opens the next cell
    assert "No description" not in out


def test_the_stale_banner_says_whose_results_are_left_out_after_a_run_with_no_retrain(tmp_path):
    """`run --no-retrain` records a stale run as failed in its table: the sections leave its results
    out, so the banner must not say its last results are shown."""
    from aestudy.report.render import stale_banner, unused_runs

    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "theory.csv").write_text("run_id,status,error\nall,failed,--no-retrain: would need to run\n")
    (tables / "autoencode.csv").write_text("run_id,status\nd5,cached\nd10,ok\n")
    stale = [("theory/all", "parameter n_samples: 2001 -> 1001"), ("autoencode/d5", "module x changed")]
    assert unused_runs(tmp_path, [n for n, _ in stale]) == 1
    assert unused_runs(tmp_path, ["autoencode/d5", "autoencode/d10", "correlate/all"]) == 0
    one = stale_banner(stale[:1], 14, "params/smoke.yaml", unused=1)
    assert "Its results are left out: the last `run` recorded it as failed or skipped" in one
    assert "last results are shown" not in one
    some = stale_banner(stale, 14, "params/smoke.yaml", unused=1)
    assert "The results of 1 of them are left out" in some and "the others' last results are shown." in some
    assert "Their last results are shown." in stale_banner(stale, 14, "params/smoke.yaml")
