"""JupyterLab, tried for real: a Jupyter server on a free local port, headless Chromium driven by
Playwright opens the committed autoencode notebook, which must open unmodified (no dirty mark once
the kernel has answered), then its parameter cell is given tiny values through the editor, Run >
Run All Cells runs it, and its text and figures appear with no error.

Everything happens in temporary folders: a copy of notebooks/, Jupyter's config, data, runtime
and workspace folders, IPython's folder, the fake MNIST (DATA_DIR) and the notebook's out_dir, so
nothing lands in the checkout. Skipped when Playwright or Chromium is missing.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from aestudy import notebooks

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')"
)
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "notebooks" / "autoencode.ipynb"
# tiny values for the parameter cell, typed in through the UI (out_dir is added per test)
TINY = {
    "train_size": "100",
    "test_size": "50",
    "epochs": "1",
    "fc_hidden": "32",
    "batch_size": "50",
    "device": '"cpu"',
}


def _chromium() -> str:
    from aestudy.report.pdf import find_chromium

    exe = find_chromium()
    if not exe:
        pytest.skip("no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)")
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path, fake_mnist):
    """A JupyterLab server whose root is a temporary copy of notebooks/; yields (base URL, token,
    root, the Chromium to drive)."""
    exe = _chromium()
    root = tmp_path / "lab"
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks")
    jupyter = tmp_path / "jupyter"
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_DATA_DIR": str(jupyter / "data"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
        "IPYTHONDIR": str(jupyter / "ipython"),
        "LIB_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "DATA_DIR": str(fake_mnist),
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.workspaces_dir={jupyter / 'workspaces'}",
            f"--LabApp.user_settings_dir={jupyter / 'settings'}",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(tmp_path / 'server.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield base, token, root, exe
    finally:
        server.terminate()  # the server shuts its kernels down; then its whole session group goes
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait()
        log.close()


def _tiny_parameters(source: str, out_dir: Path) -> str:
    """The committed parameter cell with TINY values (and out_dir) in place of the defaults."""
    values = {**TINY, "out_dir": repr(str(out_dir))}
    lines = []
    for line in source.splitlines():
        m = re.match(r"^(\w+)(\s*=\s*)(.*?)(\s*#.*)?$", line)
        if m and m.group(1) in values:
            line = f"{m.group(1)}{m.group(2)}{values.pop(m.group(1))}{m.group(4) or ''}"
        lines.append(line)
    assert not values, f"the parameter cell has no {sorted(values)}"
    return "\n".join(lines)


def test_autoencode_notebook_opens_clean_and_runs_in_jupyterlab(lab, tmp_path):
    base, token, root, exe = lab
    committed = NOTEBOOK.read_bytes()
    nb_file = root / "notebooks" / NOTEBOOK.name
    version = notebooks.committed_version(committed.decode())
    if version and version != platform.python_version():
        # JupyterLab records the kernel's Python version: on another Python than the one the
        # notebooks were tidied for, open them as tidied for this one (all else as committed)
        nb_file.write_text(notebooks.normal_text(committed.decode()))
    param_src = next(
        "".join(c["source"])
        for c in json.loads(committed)["cells"]
        if "parameters" in c["metadata"].get("tags", [])
    )
    out_dir = tmp_path / "out"
    lab_reports = REPO_ROOT / "reports" / "lab" / "autoencode"
    before = {p: p.stat().st_mtime_ns for p in lab_reports.glob("*")} if lab_reports.is_dir() else {}

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab/tree/notebooks/{NOTEBOOK.name}?reset&token={token}")
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.locator(".jp-Cell").first.wait_for()
            # the execution indicator is read below through its selector
            # settle: the kernel has started and answered (JupyterLab writes its language_info then)
            page.wait_for_function(
                "s => document.querySelector(s)?.dataset.status === 'idle'",
                arg=".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator",
            )
            page.wait_for_timeout(1500)
            dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty")
            assert dirty.count() == 0, (
                f"JupyterLab marks {NOTEBOOK.name} modified on open: run `python -m lib tidy-notebooks`"
            )

            # the parameter cell gets tiny values through its editor (inserted as text: no auto-closing)
            cell = panel.locator(".jp-CodeCell").filter(has_text="Parameters").first
            cell.locator(".cm-content").click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(_tiny_parameters(param_src, out_dir))
            assert "train_size = 100" in cell.locator(".cm-content").inner_text()

            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
            prompts = panel.locator(".jp-CodeCell .jp-InputPrompt")
            n_code = prompts.count()
            page.wait_for_function(
                """([panel, n]) => {
                    const p = document.querySelector(panel);
                    const prompts = [...p.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent);
                    return p.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'
                        && prompts.every(t => !t.includes('*'))
                        && prompts.filter(t => /\\[\\d+\\]/.test(t)).length > 0;
                }""",
                arg=[".jp-NotebookPanel:not(.lm-mod-hidden)", n_code],
                timeout=75_000,
            )

            numbered = [t for t in prompts.all_inner_texts() if re.search(r"\[\d+\]", t)]
            outputs = panel.locator(".jp-OutputArea-output")
            errors = [
                t
                for t in panel.locator(
                    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
                    '.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]'
                ).all_inner_texts()
                if re.search(r"Traceback|Error|Exception", t)
            ]
            assert not errors, errors[0][-2000:]
            assert len(numbered) == n_code, f"only {len(numbered)} of {n_code} code cells ran"
            text = "\n".join(outputs.all_inner_texts())
            assert "100 train / 100 validation / 50 test images" in text, text[-2000:]
            assert "final test reconstruction error" in text, text[-2000:]
            assert panel.locator(".jp-OutputArea-output img").count() >= 2  # loss curves, reconstructions
        finally:
            browser.close()

    assert {p.name for p in out_dir.iterdir()} >= {
        "model.pt",
        "metrics.json",
        "loss_curves.png",
        "reconstructions.png",
    }
    assert NOTEBOOK.read_bytes() == committed  # the checkout's notebook was never touched
    after = {p: p.stat().st_mtime_ns for p in lab_reports.glob("*")} if lab_reports.is_dir() else {}
    assert after == before, "the notebook wrote into the checkout's reports/lab/"
