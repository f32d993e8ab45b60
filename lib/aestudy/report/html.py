"""One self-contained HTML report from executed notebooks: no network needed to read it.

The pipeline is::

    nb = combine([nbformat.read(p, as_version=4) for p in executed])
    html = export_html(nb, Path("reports/report.html"), title="MNIST autoencoder study")

PNG outputs are data URIs, the JupyterLab CSS is inline, and math is typeset in
the browser by MathJax 3 (``tex-svg-full.js`` from the ``django-static-mathjax``
package, inlined; SVG output, so no font files).  Code inputs are hidden; cells
tagged ``remove-cell`` are dropped, and so are the outputs of cells tagged
``remove-output`` (and inputs tagged ``remove-input``, which are hidden anyway).
The template is ``templates/report`` next to this module (extends nbconvert's
``lab``).  The file is written atomically (temporary name, then ``os.replace``).

A ``<nav class="report-toc"></nav>`` in an output (the analyses notebook shows one after the
page-1 verdict table) is filled with links to the h1 and h2 headings that follow it (an h2 after a
chapter's h1 nested under it), using the anchors the exporter gives the headings.
"""

from __future__ import annotations

import copy
import html
import importlib.resources
import importlib.util
import os
import re
import sys
from pathlib import Path

import markupsafe
import nbformat
from nbformat import NotebookNode

from ..errors import StudyError
from ..files import atomic_write_bytes

__all__ = ["RenderToolMissing", "check_tools", "combine", "export_html", "mathjax_js_path"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "report"

DEFAULT_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

# Tags understood by export_html.
REMOVE_CELL_TAGS = ("remove-cell",)
REMOVE_OUTPUT_TAGS = ("remove-output",)
REMOVE_INPUT_TAGS = ("remove-input",)


# --------------------------------------------------------------------------- combine


def combine(notebooks: list[NotebookNode]) -> NotebookNode:
    """Concatenate executed notebooks into one notebook, cells in order.

    Outputs and cell metadata (tags included) are kept; the inputs are deep
    copies, so they are not modified.  The result has a ``kernelspec`` (the first
    one found, else a Python 3 default) and ``language_info`` when any input has
    it.  Cell ids that collide across notebooks are made unique deterministically.
    Items may also be paths, which are read with nbformat.
    """
    out = nbformat.v4.new_notebook()
    out.nbformat, out.nbformat_minor = 4, 5
    kernelspec = None
    language_info = None
    seen_ids: set[str] = set()
    for i, nb in enumerate(notebooks):
        if isinstance(nb, (str, os.PathLike)):
            nb = nbformat.read(os.fspath(nb), as_version=4)
        meta = nb.get("metadata", {})
        kernelspec = kernelspec or meta.get("kernelspec")
        language_info = language_info or meta.get("language_info")
        for j, cell in enumerate(nb.get("cells", [])):
            cell = copy.deepcopy(cell)
            cid = cell.get("id") or f"cell-{i}-{j}"
            if cid in seen_ids:
                base = cid[:40]
                n = 0
                cid = f"{base}-nb{i}-{j}"
                while cid in seen_ids:
                    n += 1
                    cid = f"{base}-nb{i}-{j}-{n}"
            seen_ids.add(cid)
            cell["id"] = cid
            out.cells.append(cell)
    out.metadata["kernelspec"] = nbformat.from_dict(dict(kernelspec or DEFAULT_KERNELSPEC))
    if language_info:
        out.metadata["language_info"] = nbformat.from_dict(dict(language_info))
    return out


# --------------------------------------------------------------------------- HTML


class RenderToolMissing(StudyError, RuntimeError):
    """A package the report is rendered with is not installed; the runs are kept (exit 1)."""


def _missing(what: str, package: str) -> RenderToolMissing:
    return RenderToolMissing(
        f"rendering the report needs {what}, not installed for {sys.executable}: install the lock "
        f"(`make setup`, or pip install {package}); the runs are kept, and `aestudy render PARAMS` "
        "renders them afterwards (`aestudy run --no-render` skips rendering)"
    )


def check_tools() -> None:
    """Raise `RenderToolMissing`, naming the package, before a render starts without nbconvert or
    MathJax (a machine set up only to run, such as a lent GPU image)."""
    if importlib.util.find_spec("nbconvert") is None:
        raise _missing("nbconvert", "nbconvert")
    mathjax_js_path()


def mathjax_js_path() -> Path:
    """Path of MathJax 3 ``es5/tex-svg-full.js`` shipped by ``django-static-mathjax``."""
    try:
        res = importlib.resources.files("mathjax").joinpath("static", "mathjax", "es5", "tex-svg-full.js")
    except ModuleNotFoundError as exc:
        raise _missing("MathJax 3", "django-static-mathjax==3.2.2.1") from exc
    path = Path(str(res))
    if not path.is_file():  # pragma: no cover
        raise RenderToolMissing(f"MathJax 3 file missing: {path}; reinstall django-static-mathjax")
    return path


def _mathjax_inline_source() -> markupsafe.Markup:
    js = mathjax_js_path().read_text(encoding="utf-8")
    # A literal "</script" would end the inline <script> element early.
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    return markupsafe.Markup(js)


# nbconvert's markdown step differs from JupyterLab in two ways that break math:
#  * "\$" becomes a bare "$", which MathJax then takes as a delimiter
#    ("costs \$5 and \$10" -> math "5 and ").  We turn "\$" into "\\$"
#    (markdown: a literal backslash, then "$"), so the HTML holds "\$", which
#    MathJax (processEscapes) shows as "$".
#  * "\(x\)" and "\[x\]" lose their backslashes (markdown escapes) and show as
#    "(x)" / "[x]"; JupyterLab typesets them.  We rewrite them to $x$ / $$x$$.
# Code (fenced or inline) and math that nbconvert already protects are left
# alone; the math patterns mirror nbconvert's MarkdownWithMath.
_MD_MATH_SCAN = re.compile(
    r"""
    (?P<fence>^[ ]{0,3}(?P<f>`{3,}|~{3,}).*?(?:^[ ]{0,3}(?P=f)[^\n]*$|\Z))   # fenced code
  | (?P<code>(?P<bt>`+).+?(?<!`)(?P=bt)(?!`))                              # inline code
  | (?P<math>(?<!\\)\$\$.*?(?<!\\)\$\$                                     # $$ ... $$
        | \\\\\[.*?\\\\\]                                                  # \\[ ... \\]
        | (?<![$\\])\$.+?(?<![$\\])\$                                      # $ ... $
        | \\\\\(.*?\\\\\)                                                  # \\( ... \\)
        | \\begin\{(?P<env>[a-z]*\*?)\}.*?\\end\{(?P=env)\})              # environments
  | (?P<bs>\\\\)                                                           # escaped backslash
  | \\\((?P<inline>.+?)\\\)                                                # \( ... \)
  | \\\[(?P<display>.+?)\\\]                                               # \[ ... \]
  | (?P<dollar>\\\$)                                                       # escaped dollar
    """,
    re.DOTALL | re.MULTILINE | re.VERBOSE,
)


def _md_math_fix(m: re.Match) -> str:
    if m.group("dollar"):
        return "\\\\$"
    if m.group("inline") is not None:
        return f"${m.group('inline')}$"
    if m.group("display") is not None:
        return f"$${m.group('display')}$$"
    return m.group(0)


def _protect_markdown_math(source: str) -> str:
    """Rewrite a markdown cell so its math reaches the HTML as JupyterLab shows it."""
    if "\\" not in source:
        return source
    return _MD_MATH_SCAN.sub(_md_math_fix, source)


def _html_exporter():
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    c.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    c.TagRemovePreprocessor.remove_input_tags = set(REMOVE_INPUT_TAGS)
    return HTMLExporter(
        config=c,
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,  # images referenced from markdown become data URIs
    )


def export_html(nb: NotebookNode, out_html: Path, title: str, *, base_dir: Path | None = None) -> Path:
    """Write ``nb`` as one self-contained HTML report and return its path.

    Code inputs and prompts are hidden, ``remove-cell`` cells and the outputs of
    ``remove-output`` cells are dropped.  ``base_dir`` resolves relative image
    paths in markdown cells (default: the output's directory).  The page sets
    ``<body data-mathjax-ready="true">`` once MathJax has typeset it.
    """
    out_html = Path(out_html)
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            cell.source = _protect_markdown_math(cell.source)
    resources = {
        "metadata": {"name": title, "path": str(base_dir or out_html.parent)},
        "report_mathjax_js": _mathjax_inline_source(),
    }
    body, _ = _html_exporter().from_notebook_node(nb, resources=resources)
    return atomic_write_bytes(out_html, describe_images(fill_toc(body)).encode("utf-8"))


_NO_ALT = 'alt="No description has been provided for this image"'  # nbconvert's placeholder
_FIGURE_CAPTION = re.compile(r'<p class="caption figure-caption">(.*?)</p>', re.S)


_CELL = '<div class="jp-Cell '  # where a notebook cell starts in nbconvert's HTML


def describe_images(body: str) -> str:
    """Give each figure image the caption that follows it in its cell, or opens the next cell (a
    markdown caption under a code cell's figure), as its alt text: a screen reader reads 'Figure 3.
    Test inputs ...', not nbconvert's placeholder; the images of one figure share its caption. An
    image with no such caption gets a plain 'Figure'."""

    def caption_after(start: int):
        end = body.find(_CELL, start)
        own = _FIGURE_CAPTION.search(body, start, end if end >= 0 else len(body))
        if own or end < 0:
            return own
        after = body.find(_CELL, end + 1)
        cap = _FIGURE_CAPTION.search(body, end, after if after >= 0 else len(body))
        return cap if cap and "<img" not in body[end : cap.start()] else None

    out, at = [], 0
    for m in re.finditer(re.escape(_NO_ALT), body):
        cap = caption_after(m.end())
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cap.group(1))).strip() if cap else "Figure"
        out += [body[at : m.start()], f'alt="{html.escape(html.unescape(text), quote=True)}"']
        at = m.end()
    return "".join(out) + body[at:]


_TOC = re.compile(r'<nav class="report-toc"([^>]*)>\s*</nav>')
_HEADING = re.compile(r'<h([12])\b[^>]*?\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)


def fill_toc(body: str) -> str:
    """Fill the first empty ``<nav class="report-toc">`` with a linked list of the h1/h2 headings
    after it; an h2 that follows an h1 is listed under it (a chapter and its sections)."""
    m = _TOC.search(body)
    if not m:
        return body
    entries: list[list] = []  # [anchor, text, children]
    chapter = None
    for h in _HEADING.finditer(body, m.end()):
        text = re.sub(r'<a class="anchor-link".*?</a>', "", h.group(3), flags=re.S)
        text = re.sub(r"<[^>]+>", "", text).replace("¶", "").strip()
        entry = [h.group(2), text, []]
        if h.group(1) == "1":
            chapter = entry
            entries.append(entry)
        elif chapter is not None:
            chapter[2].append(entry)
        else:
            entries.append(entry)
    if not entries:
        return body

    def items(es) -> str:
        return "".join(
            f'<li><a href="#{a}">{t}</a>' + (f"<ul>{items(c)}</ul>" if c else "") + "</li>" for a, t, c in es
        )

    nav = (
        f'<nav class="report-toc"{m.group(1)}><p class="toc-title"><b>Contents</b></p>'
        f"<ul>{items(entries)}</ul></nav>"
    )
    return body[: m.start()] + nav + body[m.end() :]
