"""Turn executed notebooks into one self-contained report (HTML, then PDF).

The pipeline is::

    nb = combine([nbformat.read(p, as_version=4) for p in executed])
    html = export_html(nb, Path("reports/report.html"), title="MNIST autoencoder study")
    export_pdf(html, Path("reports/report.pdf"))

* ``export_html`` writes one HTML file that needs no network: PNG outputs are
  data URIs, the JupyterLab CSS is inline, and math is typeset in the browser by
  MathJax 3 (``tex-svg-full.js`` from the ``django-static-mathjax`` package,
  inlined; SVG output, so no font files).  Code inputs are hidden; cells tagged
  ``remove-cell`` are dropped, and so are the outputs of cells tagged
  ``remove-output`` (and inputs tagged ``remove-input``, which are hidden anyway).
  The template is ``lib/templates/report`` (extends nbconvert's ``lab``).
* ``export_pdf`` prints that HTML with headless Chromium (network blocked).
* ``check_offline`` lists the external resources an HTML page would load.
* ``rendered_dom`` returns the DOM after scripts ran (for tests: is math typeset?).
* ``environment_info`` records provenance (git commit, versions, device).

Every file is written atomically: to a temporary name in the target directory,
then ``os.replace``.
"""

from __future__ import annotations

import copy
import html.parser
import importlib.metadata
import importlib.resources
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import markupsafe
import nbformat
from nbformat import NotebookNode

__all__ = [
    "PdfToolMissing",
    "combine",
    "export_html",
    "export_pdf",
    "check_offline",
    "rendered_dom",
    "find_chromium",
    "mathjax_js_path",
    "environment_info",
]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "report"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

# Tags understood by export_html.
REMOVE_CELL_TAGS = ("remove-cell",)
REMOVE_OUTPUT_TAGS = ("remove-output",)
REMOVE_INPUT_TAGS = ("remove-input",)

# Where to look for a Chromium-like browser after $CHROMIUM, before $PATH.
CHROMIUM_PATHS = (
    "/usr/lib/chromium/chromium",  # Debian: the binary itself, no wrapper-script warning
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

INSTALL_HINT = (
    "install it (Debian/Ubuntu: apt-get install chromium; "
    "macOS: brew install --cask chromium) or set CHROMIUM=/path/to/chrome"
)

# Virtual time (ms) the browser lets the page run before printing / dumping.
# Virtual time only advances while the page is busy, so a large budget is cheap.
VIRTUAL_TIME_BUDGET_MS = 60_000


class PdfToolMissing(RuntimeError):
    """No Chromium-like browser was found; the message says what to install."""


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


def mathjax_js_path() -> Path:
    """Path of MathJax 3 ``es5/tex-svg-full.js`` shipped by ``django-static-mathjax``."""
    try:
        res = importlib.resources.files("mathjax").joinpath("static", "mathjax", "es5", "tex-svg-full.js")
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "MathJax 3 not found: pip install django-static-mathjax==3.2.2.1"
        ) from exc
    path = Path(str(res))
    if not path.is_file():  # pragma: no cover
        raise RuntimeError(f"MathJax 3 file missing: {path}; reinstall django-static-mathjax")
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


def _atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same directory + os.replace."""
    from .artifacts import atomic_write_bytes

    return atomic_write_bytes(path, data)


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
    return _atomic_write(out_html, body.encode("utf-8"))


# --------------------------------------------------------------------------- offline check

_EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"]*?))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
# ES module loads inside inline <script type="module">: import ... from "x" / import("x")
_JS_MODULE_IMPORT = re.compile(
    r"""(?:\bimport\s*\(\s*|\bimport\s+(?:[\w*{}\s,]+\s+from\s+)?)["'`]((?:https?:)?//[^"'`]+)""",
    re.IGNORECASE,
)

# (tag, attribute) pairs whose value the browser fetches.
_LOAD_ATTRS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "image": ("href", "xlink:href"),  # SVG <image>
    "use": ("href", "xlink:href"),  # SVG <use> of an external file
}


def _css_urls(css: str) -> list[str]:
    css = _CSS_COMMENT.sub("", css)
    found = [(m.start(), next(g for g in m.groups() if g is not None)) for m in _CSS_URL.finditer(css)]
    found += [(m.start(), m.group(1) or m.group(2)) for m in _CSS_IMPORT.finditer(css)]
    return [u.strip() for _, u in sorted(found)]


class _ResourceScanner(html.parser.HTMLParser):
    """Collects URLs a browser would load: tag attributes, CSS url()/@import."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False
        self._module_script = False

    def _add(self, value: str | None) -> None:
        if value and _EXTERNAL.match(value):
            self.urls.append(value.strip())

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        for name in _LOAD_ATTRS.get(tag, ()):
            value = a.get(name)
            if not value:
                continue
            if name == "srcset":
                for part in value.split(","):
                    self._add(part.strip().split(" ")[0])
            else:
                self._add(value)
        if "style" in a:
            for u in _css_urls(a["style"]):
                self._add(u)
        if tag == "style":
            self._in_style = True
        elif tag == "script":
            self._module_script = a.get("type", "").strip().lower() == "module"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        elif tag == "script":
            self._module_script = False

    def handle_data(self, data):
        if self._in_style:
            for u in _css_urls(data):
                self._add(u)
        elif self._module_script:
            for m in _JS_MODULE_IMPORT.finditer(data):
                self._add(m.group(1))


def check_offline(html_text: str) -> list[str]:
    """External URLs (``http(s)://`` or ``//``) the page would load; [] = self-contained.

    Looks at ``<script src>``, ``<link href>``, ``<img src/srcset>`` (and other
    media/embedding tags), CSS ``url(...)``/``@import`` in ``<style>`` and
    ``style=""``, and ES-module imports in ``<script type="module">``.  Plain
    hyperlinks (``<a href>``) and URL strings inside classic scripts (such as the
    inlined MathJax bundle) are not loads and are ignored.  Order kept, no
    duplicates.
    """
    scanner = _ResourceScanner()
    scanner.feed(html_text)
    scanner.close()
    return list(dict.fromkeys(scanner.urls))


# --------------------------------------------------------------------------- Chromium


def find_chromium() -> str | None:
    """Path of a Chromium-like browser, or None.

    Order: ``$CHROMIUM`` (if set, it must be an executable, else None), then
    ``/usr/lib/chromium/chromium`` (and the macOS app bundles), then
    ``chromium``, ``chromium-browser``, ``google-chrome``, ``google-chrome-stable``
    on ``$PATH``.
    """
    env = os.environ.get("CHROMIUM")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    for p in CHROMIUM_PATHS:
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _require_chromium(what: str) -> str:
    exe = find_chromium()
    if exe:
        return exe
    env = os.environ.get("CHROMIUM")
    if env:
        raise PdfToolMissing(f"{what}: CHROMIUM={env} is not an executable file; {INSTALL_HINT}")
    raise PdfToolMissing(f"{what}: no Chromium found; {INSTALL_HINT}")


def _chromium_args(exe: str, user_data_dir: str, budget_ms: int) -> list[str]:
    return [
        exe,
        "--headless",
        "--no-sandbox",  # needed as root / in containers; we only open our own local file
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-first-run",
        "--no-default-browser-check",
        "--mute-audio",
        # no network: every host fails to resolve, any proxy use goes to a closed port
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={user_data_dir}",
        f"--virtual-time-budget={budget_ms}",
    ]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "(no stderr)"


def _run_chromium(args: list[str], timeout: float, what: str) -> subprocess.CompletedProcess:
    """Run Chromium in its own process group; kill the whole group on timeout."""
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise RuntimeError(f"{what}: chromium timed out after {timeout:g} s") from None
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def export_pdf(html: Path, pdf: Path, timeout: float = 120) -> Path:
    """Print ``html`` to ``pdf`` (A4 from the page's CSS) with headless Chromium.

    Network is blocked; ``--virtual-time-budget`` lets MathJax finish first.
    Raises PdfToolMissing when no browser is found, RuntimeError (one line:
    exit code and last stderr line) when Chromium fails.
    """
    what = "PDF not written"
    exe = _require_chromium(what)
    html = Path(html).resolve()
    if not html.is_file():
        raise FileNotFoundError(f"{what}: no such HTML file: {html}")
    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    tmp_pdf = pdf.with_name(f".{pdf.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp.pdf")
    try:
        with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
            args = _chromium_args(exe, profile, VIRTUAL_TIME_BUDGET_MS) + [
                "--no-pdf-header-footer",
                f"--print-to-pdf={tmp_pdf.resolve()}",
                html.as_uri(),
            ]
            res = _run_chromium(args, timeout, what)
        if res.returncode != 0:
            raise RuntimeError(
                f"{what}: chromium exited with code {res.returncode}: "
                f"{_last_line(res.stderr.decode(errors='replace'))}"
            )
        if not tmp_pdf.is_file() or tmp_pdf.stat().st_size == 0:
            raise RuntimeError(
                f"{what}: chromium exited with code 0 but wrote no PDF: "
                f"{_last_line(res.stderr.decode(errors='replace'))}"
            )
        os.replace(tmp_pdf, pdf)
    finally:
        tmp_pdf.unlink(missing_ok=True)
    return pdf


def rendered_dom(html: Path, timeout: float = 120) -> str:
    """The page's DOM after its scripts ran (headless Chromium, network blocked).

    Used to check that math really is typeset: look for ``mjx-container``
    elements holding ``<svg>`` and ``data-mathjax-ready="true"`` on ``<body>``.
    """
    what = "DOM not rendered"
    exe = _require_chromium(what)
    html = Path(html).resolve()
    if not html.is_file():
        raise FileNotFoundError(f"{what}: no such HTML file: {html}")
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        args = _chromium_args(exe, profile, VIRTUAL_TIME_BUDGET_MS) + ["--dump-dom", html.as_uri()]
        res = _run_chromium(args, timeout, what)
    if res.returncode != 0:
        raise RuntimeError(
            f"{what}: chromium exited with code {res.returncode}: "
            f"{_last_line(res.stderr.decode(errors='replace'))}"
        )
    return res.stdout.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- provenance

_VERSIONED = ("torch", "torchvision", "numpy", "pandas", "papermill", "nbconvert", "seaborn", "scikit-learn")


def _git(repo: Path, *args: str) -> str | None:
    try:
        res = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True, text=True, timeout=20, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout if res.returncode == 0 else None


def _auto_device() -> tuple[str, str | None]:
    """(device, name) that device="auto" picks: cuda, then mps, then cpu."""
    try:
        import torch  # lazy: heavy, and optional for building a report
    except Exception:  # noqa: BLE001 - ImportError or a broken install
        return "cpu", None
    try:
        if torch.cuda.is_available():
            return "cuda", torch.cuda.get_device_name(0)
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps", None
    except Exception:  # noqa: BLE001
        pass
    return "cpu", None


def environment_info(repo: Path | None = None) -> dict:
    """Provenance for the report: git state, Python, platform, versions, device.

    Keys: ``git_commit`` (short sha), ``git_dirty`` (bool; both are "unknown"
    outside a git checkout or without git), ``python``, ``platform``,
    ``versions`` ({distribution: version or "not installed"}), ``device``
    ("cuda" / "mps" / "cpu", as device="auto" picks) and ``device_name``.
    """
    repo = Path(repo) if repo is not None else PROJECT_ROOT
    sha = _git(repo, "rev-parse", "--short", "HEAD")
    status = _git(repo, "status", "--porcelain") if sha is not None else None
    versions = {}
    for dist in _VERSIONED:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    device, device_name = _auto_device()
    return {
        "git_commit": sha.strip() if sha else "unknown",
        "git_dirty": bool(status.strip()) if status is not None else "unknown",
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
        "device": device,
        "device_name": device_name,
    }
