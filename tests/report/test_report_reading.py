"""The rendered smoke report as a reader meets it (the "report as read" issue): page 1 of the PDF
holds the answer (the verdict table, every row), no page is mostly blank except where a section
ends, every figure and table is numbered and captioned, and the HTML has a linked table of
contents.

Blank area, measured simply: a page is rendered at 30 dpi in grey; a pixel row is blank when no
pixel in it is darker than BLANK_LEVEL; the page's blank fraction is the share of its height in
runs of blank rows at least 4 % of the page high (so the spacing between lines and paragraphs
does not count, while the margins, an empty bottom and any wide gap do). Exempt: the last page,
and every page followed by a page whose first line is an h1 or h2 heading of the report (the
page ends a section or chapter; a chapter no longer starts on a new page, so this rarely applies)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from aestudy.report import pdf as report_pdf
from aestudy.report import profile, verdicts

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(report_pdf.find_chromium() is None, reason="Chromium not installed"),
    pytest.mark.skipif(
        not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
        reason="poppler-utils (pdftoppm, pdftotext) not installed",
    ),
]

DPI = 30
BLANK_LEVEL = 200  # grey level (0 black, 255 white) below which a pixel is ink
MIN_GAP = 0.04  # a blank run counts from this fraction of the page height up
MAX_BLANK = 0.5
MAX_FIGURE_INCHES = 7.2  # the printed text width of A4 with 15 mm margins is 7.09 in
FIGURE_DPI = 110  # aestudy.drawing.DPI


def _text(pdf: Path, first: int | None = None, last: int | None = None, layout: bool = False) -> str:
    """pdftotext's text; with `layout`, in reading order line by line (a table row's cells stay
    on its first line; without it, pdftotext may move a short cell far from its row)."""
    pages = (["-f", str(first)] if first else []) + (["-l", str(last)] if last else [])
    return subprocess.run(
        ["pdftotext", *pages, *(["-layout"] if layout else []), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _page_images(pdf: Path, out: Path) -> list[np.ndarray]:
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(out / "p")], check=True)
    return [np.asarray(Image.open(p).convert("L")) for p in sorted(out.glob("p-*.png"))]


def blank_fraction(page: np.ndarray) -> float:
    ink = (page < BLANK_LEVEL).any(axis=1)
    min_run, blank, run = max(1, int(MIN_GAP * len(ink))), 0, 0
    for is_ink in list(ink) + [True]:
        if is_ink:
            blank += run if run >= min_run else 0
            run = 0
        else:
            run += 1
    return blank / len(ink)


def _headings(html: str, levels: str = "12") -> list[str]:
    found = re.findall(rf"<h([{levels}])\b[^>]*>(.*?)</h\1>", html, re.S)
    return [" ".join(re.sub(r"<[^>]+>|¶", "", h).split()) for _, h in found]


@pytest.fixture(scope="module")
def report(smoke_profile):
    pdir = smoke_profile["dir"]
    return {
        "pdf": pdir / "report.pdf",
        "html": (pdir / "report.html").read_text(),
        "dir": pdir,
        "verdicts": verdicts.verdicts(profile.read_profile(pdir)),
    }


def _subsequence(tokens: list[str], words: list[str], start: int) -> tuple[int, int] | None:
    """(first, last) index of `words` found in order in `tokens` from `start`, other tokens
    allowed in between (a table cell's lines can interleave with its neighbours' in pdftotext)."""
    for first in (i for i in range(start, len(tokens)) if tokens[i] == words[0]):
        i, j = first, 0
        while i < len(tokens) and j < len(words):
            j += tokens[i] == words[j]
            i += 1
        if j == len(words):
            return first, i - 1
    return None


def _at_hyphens(text: str) -> list[str]:
    """Words, split after a hyphen as well: a cell may wrap there ('pre-' ending one line of the
    cell, 'trained' starting the next, its neighbours' lines in between in pdftotext)."""
    return [t for w in text.split() for t in re.split(r"(?<=\w-)(?=\w)", w)]


def test_page_one_holds_the_verdict_table_with_every_row(report):
    page1 = _text(report["pdf"], 1, 1, layout=True)
    flat = " ".join(page1.split())
    assert flat.startswith("Convolutional autoencoders on MNIST")
    for words in ("Summary", "Abstract.", "Table 1.", "exp.", "conclusion", "verdict", "holds", "key number"):
        assert words in flat, words
    tokens, pos = _at_hyphens(flat), 0
    for claim, row in report["verdicts"].iterrows():
        found = _subsequence(tokens, _at_hyphens(str(row["conclusion"])), pos)
        assert found, f"page 1 lacks the row of {claim}: {row['conclusion']}"
        window = " ".join(tokens[found[0] : found[1] + 25])
        assert row["verdict"] in window, (claim, window)
        assert re.sub(r"^holds in | seeds$", "", row["seeds"]) in window, (claim, window)
        pos = found[0] + 1
    assert "this run's numbers" not in flat  # the long numbers are in the detailed table, later


def test_no_page_is_mostly_blank_except_where_a_section_ends(report, tmp_path):
    pages = _page_images(report["pdf"], tmp_path)
    heads = {h for h in _headings(report["html"]) if h}
    firsts = [
        next((ln.strip() for ln in _text(report["pdf"], k, k).splitlines() if ln.strip()), "")
        for k in range(1, len(pages) + 1)
    ]
    too_blank = []
    for k, page in enumerate(pages):
        ends_section = k == len(pages) - 1 or any(firsts[k + 1].startswith(h) for h in heads)
        frac = blank_fraction(page)
        if not ends_section and frac > MAX_BLANK:
            too_blank.append(f"page {k + 1}: {frac:.2f} blank, next page starts {firsts[k + 1][:40]!r}")
    assert not too_blank, too_blank
    assert blank_fraction(pages[0]) <= MAX_BLANK


def test_every_figure_and_table_is_numbered_and_captioned(report):
    html, text = report["html"], " ".join(_text(report["pdf"]).split())
    for kind in ("Figure", "Table"):
        numbers = [int(n) for n in re.findall(rf"<b>{kind} (\d+)\.</b>", html)]
        assert numbers == list(range(1, len(numbers) + 1)), (kind, numbers)
        assert all(f"{kind} {n}." in text for n in numbers), kind
    # a table's caption is right above it; a figure's caption follows it before any heading or table
    # (the folded list of every run, in the HTML only, belongs to the runs table's caption above it)
    shown = r'<table\b(?! class="runs-table")'
    assert len(re.findall(shown, html)) == len(re.findall(r'table-caption"><b>Table \d+\.</b>', html))
    for m in re.finditer(shown, html):
        before = html[: m.start()].rstrip()
        last_p = before[before.rfind("<p") :]
        assert before.endswith("</p>") and re.match(
            r'<p class="[^"]*table-caption"><b>Table \d+\.</b>', last_p
        ), before[-300:]
    events = sorted(
        [(m.start(), "img") for m in re.finditer(r"<img\b", html)]
        + [(m.start(), "caption") for m in re.finditer(r"figure-caption", html)]
        + [(m.start(), "stop") for m in re.finditer(r"<h[1-3]\b|<table\b", html)]
    )
    for i, (_, kind) in enumerate(events):
        if kind == "img":
            after = next(k for _, k in events[i + 1 :] if k != "img")
            assert after == "caption", f"figure without a caption below it (event {i})"
    # figures drawn for the report fit the printed width, so their 8 pt text prints at 8 pt
    from PIL import Image

    for png in (report["dir"] / "figures").glob("*.png"):
        assert Image.open(png).size[0] / FIGURE_DPI <= MAX_FIGURE_INCHES, png.name


def test_html_has_a_linked_table_of_contents(report):
    html = report["html"]
    nav = re.search(r'<nav class="report-toc".*?</nav>', html, re.S)
    assert nav, "no table of contents"
    assert html.index("verdict-table") < nav.start()  # after the page-1 verdict table
    links = re.findall(r'href="#([^"]+)"', nav.group(0))
    ids = set(re.findall(r'<h[12]\b[^>]*\bid="([^"]+)"', html[nav.end() :]))
    assert set(links) == ids and len(links) >= 8
    listed = " ".join(re.sub(r"<[^>]+>", " ", nav.group(0)).split())
    for section in (
        "Verdicts in detail",
        "Experiment 1: autoencoding sweep",
        "Experiment 4: transfer learning",
        "Theory",
        "Appendix: provenance",
    ):
        assert section in listed, section


def test_a_printed_line_wraps_between_words_never_inside_one(report):
    """A code cell's printed line longer than the page (a theory check's ✓ line) wraps at a space:
    JupyterLab's own style for outputs says `word-break: break-all`, under which the default report
    printed "after 120 s" and "teps" on two lines. The report's style must come last and say
    `normal`; and every check line's words print in order, whole."""
    import html

    rules = re.findall(r"([^{}]*)\{([^{}]*)\}", report["html"])
    said = [
        value
        for selector, body in rules
        if ".jp-OutputArea-output pre" in selector
        for value in re.findall(r"word-break:\s*([\w-]+)", body)
    ]
    assert said and said[-1] == "normal", said

    def words(text: str) -> list[str]:
        return [w for w in (t.strip(".,;:()[]'\"") for t in text.split()) if w.isalpha()]

    printed = f" {' '.join(words(_text(report['pdf'])))} "
    lines = [html.unescape(m).split("  [")[0] for m in re.findall(r"✓ check passed: [^\n<]*", report["html"])]
    assert len(lines) > 10
    assert [line for line in lines if f" {' '.join(words(line))} " not in printed] == []
