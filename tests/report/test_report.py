"""Tests for aestudy.report.html, .offline, .pdf and .provenance: self-contained HTML, typeset
math, PDF via Chromium.

The Chromium tests run the real browser with networking blocked; they are
skipped (with the reason) only where no Chromium/Chrome binary is found.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aestudy.report import html as report_html  # noqa: E402
from aestudy.report import offline, provenance
from aestudy.report import pdf as report_pdf  # noqa: E402

HAVE_CHROMIUM = report_pdf.find_chromium() is not None
needs_chromium = pytest.mark.skipif(
    not HAVE_CHROMIUM,
    reason="no Chromium/Chrome found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)",
)
needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdfinfo")),
    reason="poppler-utils (pdftotext, pdfinfo) not installed",
)

HEADINGS = ["Report", "Section A", "Section B"]
# Text that only occurs in code inputs, a remove-cell cell, or a remove-output output.
HIDDEN = ["SECRET_CODE_plot", "SECRET_CODE_table", "HIDDEN_CELL_SRC", "HIDDEN_CELL_OUT", "HIDDEN_OUTPUT"]
N_MATH = 6  # 4 inline ($...$ and \(...\)) + 2 display

MATH_MD = r"""## Section A

Inline $x_{n+1} = x_n - \eta \nabla f(x_n)$, a product $A_1 * B_2$ with *real emphasis*,
a comparison $a<b$ and the other delimiters \\(z_{k}\\); costs \$5 and \$10.

$$
\begin{aligned}
\mathcal{L}(\theta) &= \frac{1}{N}\sum_{i=1}^{N} \lVert x_i - \hat{x}_i \rVert^2 \\
\hat{x}_i &= g_\phi(f_\theta(x_i))
\end{aligned}
$$

$$ W = \begin{pmatrix} w_{11} & w_{12} \\ w_{21} & w_{22} \end{pmatrix} $$
"""


def _png_b64() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([0, 1, 2, 3], [3.0, 1.2, 0.7, 0.5], label="test loss")
    ax.set_title("Reconstruction loss")
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _synthetic_notebook() -> nbformat.NotebookNode:
    import pandas as pd

    df = pd.DataFrame({"latent_dim": [2, 8, 32], "test_mse": [0.051, 0.023, 0.011]})
    return new_notebook(
        cells=[
            new_markdown_cell("# Report\n\nA synthetic report with _emphasis_."),
            new_markdown_cell(MATH_MD),
            new_code_cell(
                "fig = SECRET_CODE_plot()",
                execution_count=1,
                outputs=[
                    new_output("display_data", data={"image/png": _png_b64(), "text/plain": "<Figure>"})
                ],
            ),
            new_markdown_cell("## Section B\n\nResults table:"),
            new_code_cell(
                "SECRET_CODE_table",
                execution_count=2,
                outputs=[
                    new_output(
                        "execute_result",
                        data={"text/html": df.to_html(), "text/plain": df.to_string()},
                        execution_count=2,
                    )
                ],
            ),
            new_code_cell(
                "print('HIDDEN_CELL_SRC')",
                metadata={"tags": ["remove-cell"]},
                outputs=[new_output("stream", name="stdout", text="HIDDEN_CELL_OUT\n")],
            ),
            new_code_cell(
                "print('x')",
                metadata={"tags": ["remove-output"]},
                outputs=[new_output("stream", name="stdout", text="HIDDEN_OUTPUT\n")],
            ),
            new_code_cell(
                "print(long_line)",
                outputs=[
                    new_output("stream", name="stdout", text="LONGSTART " + "0123456789" * 30 + " LONGEND\n")
                ],
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    nb = report_html.combine([_synthetic_notebook()])
    html = report_html.export_html(nb, out / "report.html", title="Synthetic report")
    return {"dir": out, "html": html, "text": html.read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def dom(built):
    if not HAVE_CHROMIUM:
        pytest.skip("no Chromium/Chrome found")
    return report_pdf.rendered_dom(built["html"])


@pytest.fixture(scope="module")
def pdf(built):
    if not HAVE_CHROMIUM:
        pytest.skip("no Chromium/Chrome found")
    return report_pdf.export_pdf(built["html"], built["dir"] / "report.pdf")


def _visible_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?is)<mjx-container\b.*?</mjx-container>", " MATH ", markup)
    markup = re.sub(r"</?span\b[^>]*>", "", markup)  # MathJax wraps an escaped $ in <span>
    markup = re.sub(r"<[^>]+>", " ", markup)
    import html as _html

    return re.sub(r"\s+", " ", _html.unescape(markup))


# ---------------------------------------------------------------- combine


def test_combine_keeps_order_outputs_and_makes_ids_unique():
    a = _synthetic_notebook()
    b = _synthetic_notebook()
    for cell_a, cell_b in zip(a.cells, b.cells):
        cell_b.id = cell_a.id  # same template notebook run twice
    b.cells[0].source = "# Second notebook"
    nb = report_html.combine([a, b])
    nbformat.validate(nb)
    assert len(nb.cells) == len(a.cells) + len(b.cells)
    assert nb.cells[0].source.startswith("# Report")
    assert nb.cells[len(a.cells)].source == "# Second notebook"
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert nb.cells[2].outputs[0].data["image/png"] == a.cells[2].outputs[0].data["image/png"]
    assert nb.metadata.kernelspec.name == "python3"
    assert a.cells[0].source.startswith("# Report")  # inputs untouched
    assert report_html.combine([]).metadata.kernelspec.name == "python3"


# ---------------------------------------------------------------- HTML (no browser)


def test_html_has_headings_and_hides_code(built):
    text = built["text"]
    for h in HEADINGS:
        assert re.search(rf"<h[12][^>]*>\s*{re.escape(h)}\s*<", text), h
    for s in HIDDEN:
        assert s not in text, s
    assert "<title>Synthetic report</title>" in text
    assert 'data-mime-type="text/html"' in text  # pandas table kept
    assert "LONGSTART" in text  # plain stream output kept
    # no temp files left next to the output
    assert not [p for p in built["dir"].iterdir() if p.name.endswith(".tmp")]


def test_html_keeps_math_source_intact(built):
    text = built["text"]
    assert "$x_{n+1} = x_n - \\eta \\nabla f(x_n)$" in text
    assert "$A_1 * B_2$" in text
    assert "<em>real emphasis</em>" in text
    assert "\\begin{aligned}" in text and "\\end{aligned}" in text
    assert "\\lVert x_i - \\hat{x}_i \\rVert^2 \\\\" in text
    assert "\\begin{pmatrix} w_{11} &amp; w_{12} \\\\ w_{21}" in text
    assert "costs \\$5 and \\$10" in text  # escaped dollars reach MathJax as \$


def test_html_is_self_contained(built):
    text = built["text"]
    assert offline.check_offline(text) == []
    assert "cdnjs" not in text and "require.js" not in text and "mermaid" not in text.lower()
    # the inlined MathJax bundle does contain CDN strings; they are not loads
    assert "cdn.jsdelivr.net" in text
    assert "<script src" not in text
    assert "@page { size: A4; margin: 15mm; }" in text
    imgs = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]+)\"", text)
    assert imgs and all(src.startswith("data:image/png;base64,") for src in imgs)


def test_check_offline_flags_external_loads():
    page = """<!DOCTYPE html><html><head>
    <script src="https://cdn.example.com/lib.js"></script>
    <link rel="stylesheet" href="//fonts.example.com/css?family=Roboto">
    <style>@import "https://example.com/a.css"; body { background: url('http://example.com/bg.png') }
      .x { background: url(data:image/png;base64,AAAA) } /* url(http://in.comment/x.png) */</style>
    <script>var u = "https://cdn.jsdelivr.net/npm/x.js"; fetchLater(u);</script>
    <script src="local.js"></script>
    </head><body>
    <a href="https://example.org/paper">a plain link is not a load</a>
    <img src="http://example.com/fig.png"><img src="data:image/png;base64,AAAA">
    <div style="background-image: url(https://example.com/s.png)"></div>
    <script type="module">const m = await import("https://cdn.example.com/m.mjs");</script>
    </body></html>"""
    found = offline.check_offline(page)
    assert found == [
        "https://cdn.example.com/lib.js",
        "//fonts.example.com/css?family=Roboto",
        "https://example.com/a.css",
        "http://example.com/bg.png",
        "http://example.com/fig.png",
        "https://example.com/s.png",
        "https://cdn.example.com/m.mjs",
    ]
    assert offline.check_offline("<html><body><p>https://example.org</p></body></html>") == []


# ---------------------------------------------------------------- browser


@needs_chromium
def test_math_is_typeset_offline(dom):
    assert re.search(r'<body[^>]*\bdata-mathjax-ready="true"', dom), "MathJax did not finish"
    containers = re.findall(r"<mjx-container\b.*?</mjx-container>", dom, flags=re.S)
    with_svg = [c for c in containers if "<svg" in c]
    assert len(with_svg) >= N_MATH, (len(containers), len(with_svg))
    assert len(re.findall(r'<mjx-container[^>]*display="true"', dom)) >= 2
    visible = _visible_text(dom)
    assert "$" not in visible.replace("costs $5 and $10", ""), "raw TeX left untypeset"
    assert "\\begin{aligned}" not in visible and "\\begin{pmatrix}" not in visible
    assert "costs $5 and $10" in visible  # \$ shown as a dollar, not math


@needs_chromium
def test_every_image_is_an_embedded_png(dom):
    srcs = re.findall(r"<img\b[^>]*?\bsrc=\"([^\"]*)\"", dom)
    assert srcs, "no <img> in the rendered page"
    for src in srcs:
        assert src.startswith("data:image/png;base64,"), src[:60]
        data = base64.b64decode(src.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 0 and height > 0 and len(data) > 100


@needs_chromium
@needs_poppler
def test_pdf_has_text_and_sane_page_count(pdf):
    assert pdf.is_file() and pdf.stat().st_size > 1000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for h in HEADINGS:
        assert h in text, h
    for s in HIDDEN:
        assert s not in text, s
    assert "LONGSTART" in text and "LONGEND" in text  # long line wrapped, not clipped
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))
    assert 1 <= pages <= 10
    assert "(A4)" in info
    assert not [p for p in pdf.parent.iterdir() if p.name.endswith(".tmp.pdf")]


# ---------------------------------------------------------------- errors


def test_export_pdf_without_browser_says_what_to_install(built, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(report_pdf, "CHROMIUM_PATHS", ())
    monkeypatch.delenv("CHROMIUM", raising=False)
    with pytest.raises(report_pdf.PdfToolMissing) as exc:
        report_pdf.export_pdf(built["html"], tmp_path / "x.pdf")
    msg = str(exc.value)
    assert "\n" not in msg and "no Chromium found" in msg
    assert "apt-get install chromium" in msg and "CHROMIUM=" in msg
    assert isinstance(exc.value, RuntimeError)

    monkeypatch.setenv("CHROMIUM", str(tmp_path / "does-not-exist"))
    monkeypatch.setattr(report_pdf, "CHROMIUM_PATHS", ("/usr/lib/chromium/chromium",))
    with pytest.raises(report_pdf.PdfToolMissing) as exc:
        report_pdf.export_pdf(built["html"], tmp_path / "x.pdf")
    assert "\n" not in str(exc.value) and "does-not-exist" in str(exc.value)
    assert not (tmp_path / "x.pdf").exists()


def test_export_pdf_reports_browser_failure(built, monkeypatch, tmp_path):
    fake = tmp_path / "fake-chrome"
    fake.write_text("#!/bin/sh\necho 'starting' >&2\necho 'FATAL: cannot open display' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    with pytest.raises(RuntimeError) as exc:
        report_pdf.export_pdf(built["html"], tmp_path / "x.pdf")
    msg = str(exc.value)
    assert not isinstance(exc.value, report_pdf.PdfToolMissing)
    assert "\n" not in msg and "code 3" in msg and "FATAL: cannot open display" in msg
    assert list(tmp_path.iterdir()) == [fake]


# ---------------------------------------------------------------- provenance


def test_environment_info(tmp_path):
    info = provenance.environment_info()
    assert re.fullmatch(r"[0-9a-f]{4,40}|unknown", info["git_commit"])
    assert info["git_dirty"] in (True, False, "unknown")
    assert info["python"] == ".".join(map(str, sys.version_info[:3]))
    assert info["platform"]
    for dist in (
        "torch",
        "torchvision",
        "numpy",
        "pandas",
        "papermill",
        "nbconvert",
        "seaborn",
        "scikit-learn",
    ):
        assert info["versions"][dist], dist
    assert info["versions"]["nbconvert"] != "not installed"
    assert "device" not in info  # the machine that renders is not the one the runs trained on

    outside = provenance.environment_info(repo=tmp_path)
    if not (Path(os.sep) / ".git").exists():
        assert outside["git_commit"] == "unknown" and outside["git_dirty"] == "unknown"


def test_the_appendix_says_where_the_runs_executed_from_their_records():
    from aestudy.report import provenance

    runs = [{"status": "ok", "where": {"host": "vm", "slurm_job_id": None}}] * 3 + [
        {"status": "ok", "where": {"host": "node1", "slurm_job_id": j}} for j in (7, 7, 8)
    ]
    assert provenance.where_line(runs) == "node1 (3 runs, 2 SLURM jobs), vm (3 runs)"
    old = [{"status": "ok", "where": None}, {"status": "failed", "where": None}]
    assert provenance.where_line(old) == "1 run whose record does not say"


def test_the_dataset_checksums_list_the_files_only_where_they_are_what_the_runs_read(tmp_path):
    """A render that sees another data folder than the runs read (DATA_DIR unset, an empty data/)
    printed 'sha256 of the 0 dataset files the runs read'. The files are listed only where their
    checksum is the one the runs recorded; otherwise the section says what the runs recorded."""
    import json

    from aestudy.report import provenance

    def run(name, data):
        d = tmp_path / name
        d.mkdir()
        (d / "complete.json").write_text(json.dumps({"inputs": {"data": data}}))
        return {"status": "ok", "dir": d}

    runs = [run("a", "f" * 64), run("b", "f" * 64), run("theory", "")]
    runs += [{"status": "failed", "dir": run("c", "c" * 64)["dir"]}]  # not a run the report uses
    corrupt = run("d", "d" * 64)
    (corrupt["dir"] / "complete.json").write_text("{not json")
    assert provenance.recorded_data([*runs, corrupt]) == {"f" * 64}
    caption = "Table 9. {}".format
    files = {"t10k-images-idx3-ubyte": "1" * 64}
    same = provenance.dataset_markdown(files, "f" * 64, "data/MNIST/raw", {"f" * 64}, caption)
    assert "sha256 of the 1 dataset files the runs read" in same and "| `t10k-images-idx3-ubyte` |" in same
    assert "every run that reads data recorded" in same
    # runs that read two datasets: the folder holds one of them, the other is named
    mixed = provenance.dataset_markdown(files, "f" * 64, "data/MNIST/raw", {"f" * 64, "a" * 64}, caption)
    assert "| `t10k-images-idx3-ubyte` |" in mixed and "others recorded `aaaaaaaaaaaa…`" in mixed
    assert "holds other files" not in mixed
    for held, words in (
        ({}, "holds no dataset files"),
        (files, "holds other files (dataset checksum `eeeeeeeeeeee…`)"),
    ):
        other = provenance.dataset_markdown(
            held, "e" * 64 if held else "absent", "data/MNIST/raw", {"f" * 64}, caption
        )
        assert (
            words in other and "`ffffffffffff…`" in other and "| file |" not in other and "Table" not in other
        )
    unknown = provenance.dataset_markdown(files, "f" * 64, "data/MNIST/raw", set(), caption)
    assert "dataset files in `data/MNIST/raw` at render time" in unknown
    nothing = provenance.dataset_markdown({}, "absent", "data/MNIST/raw", set(), caption)
    assert "No dataset files in `data/MNIST/raw`" in nothing and "Table" not in nothing


def test_rendering_imports_no_torch():
    import subprocess

    code = (
        "import sys; from aestudy.report import render, provenance; provenance.environment_info(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@needs_chromium
def test_text_from_outside_shows_verbatim_in_the_browser_never_as_math_or_a_link(tmp_path):
    """`plain` text through the report's own HTML path (markdown as JupyterLab reads it, MathJax
    typesetting): parentheses, brackets and dollars stay text, no link is made."""
    import nbformat

    from aestudy.report.html import export_html
    from aestudy.report.text import plain

    outside = r"vm (73 runs) [link](javascript:x) costs $5 and $6 [a] b\c"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Where: " + plain(outside))])
    dom = report_pdf.rendered_dom(export_html(nb, tmp_path / "r.html", title="t"))
    body = dom.split("<body", 1)[1]
    assert 'data-mathjax-ready="true"' in dom and "mjx-container" not in body  # typeset, and nothing was math
    text = re.sub(r"<[^>]+>", "", body)
    assert "Where: vm (73 runs) [link](javascript:x) costs $5 and $6 [a] b\\c" in text.replace("&amp;", "&")
    assert 'href="javascript:' not in body


def test_where_the_runs_executed_is_read_from_their_completion_records(tmp_path):
    from aestudy.files import write_json
    from aestudy.report import provenance

    for i, host in enumerate(("a", "a", "b")):
        (tmp_path / str(i)).mkdir()
        write_json(tmp_path / str(i) / "complete.json", {"where": {"host": host, "slurm_job_id": None}})
    runs = [{"status": "ok", "dir": tmp_path / str(i)} for i in range(3)]
    assert provenance.where_line(runs) == "a (2 runs), b (1 run)"
