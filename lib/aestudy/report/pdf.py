"""Headless Chromium (network blocked): print the HTML report to PDF, or dump its DOM after
scripts ran (for tests: is math typeset?).  Finding the browser and running it live here.

The PDF is written atomically (temporary name in the target directory, then ``os.replace``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..errors import StudyError

__all__ = ["PdfToolMissing", "export_pdf", "rendered_dom", "find_chromium"]

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


class PdfToolMissing(StudyError, RuntimeError):
    """No Chromium-like browser was found; the message says what to install."""


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
                "--generate-pdf-document-outline",  # bookmarks from the headings
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
