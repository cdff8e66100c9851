"""A person clicking in a browser: JupyterLab and the Voilà clinic driven in Debian's Chromium by Playwright.

JupyterLab runs on 127.0.0.1 with a token over a copy of ``notebooks/``; Chromium (``/usr/bin/chromium``, no browser
download) opens every notebook, clears it, runs all cells, and the test reads the notebook model and the page: no
error output, every widget view rendered (no "Error displaying widget", no "Loading widget..." left), no output that
shows a traceback for a refusal, no label or button cut short, no text broken mid-word, no table text cut with "..."
or right-aligned, and the clinic's text at 16 px or more. Then it *uses* one widget per notebook as a trainee would
(:data:`TRAINEE`), a refusal included, and asserts the verdict the page shows (in 07, a revoked certificate with OCSP
on is refused), and reads the page again. A canary notebook (``tests/browser_canary.ipynb``, not a trainee's) shows
that each check can fail. The Voilà dashboard is served the way ``make present`` serves it and used once.

Screenshots go to ``$LABKIT_BROWSER_ARTEFACTS`` if set, else to ``browser-artefacts`` under pytest's temporary folder
(its path is printed at the end of the run).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from cryptography.hazmat.primitives.serialization import Encoding

from labkit.httpd import free_port
from labkit.x509.pki import lab_chain

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CLINIC = ROOT / "notebooks" / "instructor" / "certificate-clinic.ipynb"
CANARY = Path(__file__).with_name("browser_canary.ipynb")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The exceptions of a refusal (labkit.errors): shown to a trainee as one line, never with a traceback.
REFUSALS = ("LabkitError", "InputError", "WrongTypeError", "PasswordError", "PolicyError", "LabError")
#: The smallest body text of the clinic, in CSS pixels (issue 14: readable on a projector).
CLINIC_MIN_PX = 16
# Chromium as the machine's probe starts it: no sandbox as root, no GPU, and no calls to Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
# Lab settings for the test user: every cell in the DOM (no windowing), no news pop-up.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it
    PlaywrightTimeout = TimeoutError
    expect = None


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        sync_playwright = None
    missing = [what for what, ok in (("Debian's chromium (/usr/bin/chromium)", CHROMIUM.exists()),
                                     ("the playwright package", sync_playwright is not None)) if not ok]
    if missing:
        message = f"needs {' and '.join(missing)}: `make test` installs them when run as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return sync_playwright


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"server did not answer {url} in {timeout} s:\n{log.read_text()[-3000:]}")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _stop(process: subprocess.Popen) -> None:
    """End a server started in its own session, with everything it started (make's child, kernels)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    """Where the screenshots go: ``$LABKIT_BROWSER_ARTEFACTS``, else a folder under pytest's temporary folder."""
    given = os.environ.get("LABKIT_BROWSER_ARTEFACTS")
    path = Path(given) if given else tmp_path_factory.getbasetemp() / "browser-artefacts"
    path.mkdir(parents=True, exist_ok=True)
    yield path
    print(f"\nbrowser test screenshots: {path}")


@pytest.fixture(scope="module")
def browser(artefacts):
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def jupyterlab(browser, tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, over a copy of notebooks/ (running cells changes the documents)."""
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns("lab-work", ".ipynb_checkpoints"))
    for name, values in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token, port = secrets.token_hex(16), free_port()
    log = home / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
               "--LabApp.expose_app_in_browser=True", "--ServerApp.allow_root=True"]
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTER_CONFIG_DIR=str(home / "config"))
    env.pop("LABKIT_WORKDIR", None)  # each kernel works below its notebook's folder, as for a trainee
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home,
                                  start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/status?token={token}", server, log)
        assert _status(f"{base}/api/status") == 403, "the server answers without the token"
        page = browser.new_page(viewport={"width": 1366, "height": 800})  # the laptop screen of issue 14
        page.goto(f"{base}/lab?token={token}")
        page.wait_for_function("window.jupyterapp && window.jupyterapp.started", timeout=60_000)
        page.wait_for_function("window.jupyterapp.serviceManager.isReady", timeout=60_000)
        yield page, root
        page.close()
    finally:
        _stop(server)


# In the page: open a notebook, wait for its kernel, clear it and run every cell.
_OPEN_AND_RUN = """async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  await app.commands.execute('notebook:clear-all-cell-outputs');
  await app.commands.execute('notebook:run-all-cells');
  window.__labkit_panel = panel;
  return panel.sessionContext.session.kernel.name;
}"""

# Append a code cell at the end of the open notebook and run it (a trainee's own try).
_APPEND_AND_RUN = """async (source) => {
  const app = window.jupyterapp;
  const panel = window.__labkit_panel;
  const model = panel.content.model;
  model.sharedModel.insertCell(model.cells.length, {cell_type: 'code', source});
  panel.content.activeCellIndex = model.cells.length - 1;
  await app.commands.execute('notebook:run-cell');
  return model.cells.length - 1;
}"""

_DONE = """() => {
  const panel = window.__labkit_panel;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const queued = panel.content.widgets.some(c => c.model.type === 'code' && c.promptNode.textContent.includes('*'));
  const idle = kernel && kernel.status === 'idle' && !queued;
  const done = idle && window.__labkit_idle_since && Date.now() - window.__labkit_idle_since > 750;
  window.__labkit_idle_since = idle ? (window.__labkit_idle_since || Date.now()) : 0;
  return done;
}"""

# What a trainee would find wrong on the page, as plain functions (the canary notebook runs them too).
_CHECKS = """
window.__labkit_checks = (() => {
  const shown = (el) => el.offsetParent !== null;
  const ownText = (el) => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const short = (el) => el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 50);
  // A menu too narrow to show its choice, a label or button whose text is cut short.
  const cramped = (node) => {
    const found = [];
    for (const el of node.querySelectorAll('select, .widget-label, .widget-label-basic, button')) {
      if (!shown(el)) continue;  // not shown (a closed accordion, a hidden box)
      if (el.tagName === 'SELECT') {
        if (el.offsetWidth < 80) found.push(`menu '${el.value}' is ${el.offsetWidth}px wide`);
      } else if (el.scrollWidth > el.clientWidth + 1) {
        found.push(`label cut: '${short(el)}'`);
      }
    }
    return found;
  };
  // Text a trainee reads broken mid-word, table text cut with "..." or pushed to the right.
  const unreadable = (node) => {
    const found = [];
    for (const el of node.querySelectorAll('.widget-html-content, .widget-html-content *, .jp-RenderedHTMLCommon td, '
                                           + '.jp-RenderedHTMLCommon th, .jp-RenderedHTMLCommon p')) {
      if (!shown(el) || !ownText(el)) continue;
      const style = getComputedStyle(el);
      if (style.wordBreak === 'break-all' || style.overflowWrap === 'anywhere') {
        found.push(`text broken mid-word: <${el.tagName.toLowerCase()}> '${short(el)}'`);
      }
      const text = el.textContent.trim();
      if (el.tagName === 'TD' && text.length >= 40 && /(\\.\\.\\.|\\u2026)$/.test(text)) {
        found.push(`table text cut: '${short(el)}'`);
      }
      if (el.tagName === 'TD' && text.length >= 40 && /[a-z] [a-z]/.test(text) && style.textAlign === 'right') {
        found.push(`table text right-aligned: '${short(el)}'`);
      }
    }
    return found;
  };
  // The clinic's text must be readable from the back of a room.
  const small = (node, minimum, selector = '.labkit-clinic') => {
    const found = [];
    for (const root of node.querySelectorAll(selector)) {
      for (const el of root.querySelectorAll('*')) {
        const control = ['TEXTAREA', 'INPUT', 'SELECT'].includes(el.tagName);
        if (!shown(el) || !(control || ownText(el))) continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < minimum) found.push(`clinic text at ${size}px: <${el.tagName.toLowerCase()}> '${short(el)}'`);
      }
    }
    return found;
  };
  return {cramped, unreadable, small};
})();
"""

# Every code cell and its outputs, as the notebook model holds them, and what the page shows for them.
_READ = """(minimum) => {
  const panel = window.__labkit_panel;
  const checks = window.__labkit_checks;
  return panel.content.widgets.map((cell, index) => {
    if (cell.model.type !== 'code') return null;
    const outputs = [];
    for (let i = 0; i < cell.model.outputs.length; i++) {
      const json = cell.model.outputs.get(i).toJSON();
      const view = cell.outputArea.widgets[i];
      outputs.push({type: json.output_type, mimes: Object.keys(json.data || {}), ename: json.ename || null,
                    evalue: json.evalue || '',
                    widget: view ? !!view.node.querySelector('.jupyter-widgets') : false,
                    text: view ? view.node.innerText : '',
                    cramped: view ? checks.cramped(view.node) : [],
                    unreadable: view ? checks.unreadable(view.node) : [],
                    small: view ? checks.small(view.node, minimum) : []});
    }
    return {cell: index, count: cell.model.executionCount, outputs};
  }).filter(c => c !== null);
}"""

_CLOSE = """async () => {
  const panel = window.__labkit_panel;
  await panel.sessionContext.shutdown();
  panel.context.model.dirty = false;
  panel.dispose();
  window.__labkit_panel = null;
  window.__labkit_idle_since = 0;
}"""


def _settle(page) -> None:
    page.wait_for_function(_DONE, timeout=180_000, polling=250)


def run_in_lab(page, relative: str) -> list[dict]:
    """Open a notebook in JupyterLab, clear it, run all cells, wait for the kernel, and read every code cell back."""
    assert page.evaluate(_OPEN_AND_RUN, relative) == "python3"
    _settle(page)
    with contextlib.suppress(PlaywrightTimeout):  # a widget still loading is reported by problems()
        page.wait_for_function("() => !document.body.innerText.includes('Loading widget...')", timeout=20_000)
    return read(page)


def read(page) -> list[dict]:
    """Every code cell of the open notebook with what its outputs show (and what is wrong with them)."""
    page.evaluate(_CHECKS)
    return page.evaluate(_READ, CLINIC_MIN_PX)


def run_cell(page, source: str) -> dict:
    """Type ``source`` into a new cell at the end of the open notebook, run it, and read that cell back."""
    index = page.evaluate(_APPEND_AND_RUN, source)
    page.wait_for_function("() => window.__labkit_panel.content.widgets.at(-1).model.executionCount !== null",
                           timeout=60_000)
    _settle(page)
    return next(cell for cell in read(page) if cell["cell"] == index)


def problems(cells: list[dict]) -> list[str]:
    """What a trainee would see go wrong: a cell that did not run, an error, a traceback for a refusal, a widget
    that did not render, a cut label, text broken mid-word or cut, small text in the clinic."""
    found = []
    for cell in cells:
        where = f"cell {cell['cell']}"
        if cell["count"] is None:
            found.append(f"{where} did not run")
        for output in cell["outputs"]:
            if output["type"] == "error":
                found.append(f"{where} raised {output['ename']}: {output['evalue']}")
            text = output["text"]
            if ("Traceback (most recent call last)" in text and any(name in text for name in REFUSALS)) \
                    or output["ename"] in REFUSALS:
                found.append(f"{where} shows a traceback for a refusal")
            if WIDGET_VIEW in output["mimes"] and (not output["widget"] or "Error displaying widget" in text
                                                   or "Loading widget" in text):
                found.append(f"{where} widget not rendered: {text[:200]!r}")
            found += [f"{where} {what}" for what in output["cramped"] + output["unreadable"] + output["small"]]
    return found


def _widget_views(path: Path) -> int:
    cells = nbformat.read(path, as_version=4).cells
    return sum(WIDGET_VIEW in o.get("data", {}) for c in cells if c.cell_type == "code" for o in c.outputs)


def _shot(page, folder: Path, name: str, target=None) -> Path:
    """A screenshot of the viewport, scrolled to ``target`` (a locator), else to the first widget if there is one."""
    if target is None:
        widgets = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets")
        target = widgets.first if widgets.count() else None
    if target is not None:
        target.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# -- a trainee at each notebook's widget ---------------------------------------------------------------------------

def _notebook(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _button(area, name: str):
    """The button labelled ``name`` (ipywidgets' Font Awesome icons add a glyph to a button's accessible name)."""
    return area.locator("button").filter(has_text=re.compile(rf"^\W*{re.escape(name)}$")).first


def _widget(page, button: str):
    """The output area of the widget that has a button called ``button``."""
    area = _notebook(page).locator(".jp-OutputArea-output").filter(has=_button(page, button)).first
    area.scroll_into_view_if_needed()
    return area


def _labelled(area, kind: str, label: str, control: str):
    """The ``control`` element of the ipywidgets ``kind`` (``text``, ``dropdown``, ``checkbox``) labelled ``label``."""
    return area.locator(f".widget-{kind}", has=area.page.locator(".widget-label, .widget-label-basic",
                                                                   has_text=label)).locator(control).first


def says(area, text: str, timeout: float = 30_000) -> None:
    """The widget shows ``text`` (waits for the kernel's answer); an AssertionError names what it shows instead."""
    expect(area).to_contain_text(text, timeout=timeout)


def _click(area, name: str) -> None:
    _button(area, name).click()


def trainee_00(page, files: Path):
    area = _widget(page, "Click me")
    _click(area, "Click me")
    says(area, "Widgets work: the kernel answered")
    refusal = run_cell(page, 'lab.fixture_key("my-own-key")')  # a trainee's mistake in a code cell: one line
    shown = "\n".join(o["text"] for o in refusal["outputs"])
    assert "fixture-key-name" in shown and "Traceback" not in shown, shown
    assert len([line for line in shown.splitlines() if line.strip()]) <= 2, shown
    return area


def trainee_01(page, files: Path):
    area = _widget(page, "Decode")
    _click(area, "Decode")  # the notebook's own root CA, at the lab clock
    says(area, "Checked at the lab clock: 2026-01-05 09:00 UTC")
    says(area, "Subject: C = GB, O = labkit, CN = labkit Root CA")
    area.locator("textarea").fill("Hello, here is our certificate")
    _click(area, "Decode")
    says(area, "rule pem-or-der")
    return area


def trainee_02(page, files: Path):
    area = _widget(page, "TLS 1.3")
    _labelled(area, "dropdown", "Scenario", "select").select_option(label="Server certificate revoked")
    says(area, "outcome: REFUSED by the client")
    says(area, "verify_code: 23")
    return area


def trainee_04(page, files: Path):
    area = _widget(page, "Generate CSR")
    field = _labelled(area, "text", "Additional alternative names", "input")
    field.fill("10.0.0.500")
    note = area.get_by_text("it looks like an IP address but is not a valid one").last
    expect(note).to_be_visible(timeout=30_000)
    below = note.bounding_box()["y"] - field.bounding_box()["y"]
    assert 0 < below < 80, f"the refusal shows {below}px below the field it is about"
    field.fill("")
    _labelled(area, "dropdown", "Key length", "select").select_option(label="8192")
    says(area, "the fixture key rsa-8192 (8192 bits) signs this request")  # its own choice, never refused
    says(area, "Warning (key-8192)")
    return area


def trainee_05(page, files: Path):
    area = _widget(page, "Sign")
    _click(area, "Sign")
    says(area, "Issued serial")
    says(area, "Issued at the lab clock")
    area.locator("textarea").fill("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n")
    _click(area, "Sign")
    says(area, "rule pem-")
    return area


def trainee_06(page, files: Path):
    area = _widget(page, "Append CA certificate")
    der = files / "root.cer"
    der.write_bytes(lab_chain().root.certificate.public_bytes(Encoding.DER))
    with page.expect_file_chooser() as chooser:  # the upload button opens the browser's file dialog
        _click(area, "Select file (0)")
    chooser.value.set_files(str(der))
    says(area, "file root.cer")
    _click(area, "Append CA certificate")
    says(area, "rule pem-only")  # the Expressway takes PEM only
    says(area, "This came from the file root.cer")
    _click(area, "Remove file")
    expect(area.locator(".labkit-file-name")).to_have_text("", timeout=30_000)
    expect(_button(area, "Remove file")).to_be_hidden()
    return area


def trainee_07(page, files: Path):
    area = _notebook(page).locator(".jp-OutputArea-output", has_text="Use OCSP").first
    area.scroll_into_view_if_needed()
    _labelled(area, "dropdown", "Certificate", "select").select_option(label="revoked")
    says(area, "decision: refuse (revoked, from ocsp)")  # OCSP on: the responder says revoked
    says(area, "handshake: REFUSED by the server")
    return area


def trainee_08(page, files: Path):
    area = _widget(page, "Sign CSR with ACME provider")
    _click(area, "Deploy pending certificate")  # the page starts fresh: nothing to deploy yet
    says(area, "rule acme-nothing-pending")
    _labelled(area, "text", "Admin email", "input").fill("pki@lab.example")
    _labelled(area, "checkbox", "I accept", "input").check()
    _click(area, "Register account")
    says(area, "Account registered")
    _click(area, "Sign CSR with ACME provider")
    says(area, "staged for expe.lab.example", timeout=60_000)
    return area


def trainee_clinic(page, files: Path):
    area = _widget(page, "Examine")
    _click(area, "a CSR")
    says(area, "rule expect-certificate")
    says(area, "Not examined: Example 'a CSR'")
    _click(area, "expired")
    says(area, "NOT TRUSTED by 'lab root + issuing CA'")
    says(area, "Example 'expired' (expired.pem)")
    _click(area, "Reset lab...")
    says(area, "Reset the whole lab?")
    _click(area, "Cancel")
    says(area, "nothing was stopped or deleted")
    return area


#: One widget per notebook, used as a trainee would, a refusal included (notebooks without a widget: only the checks).
TRAINEE = {"00-welcome.ipynb": trainee_00, "01-pki-basics.ipynb": trainee_01, "02-tls-handshake.ipynb": trainee_02,
           "04-csr-building.ipynb": trainee_04, "05-openssl-ca.ipynb": trainee_05,
           "06-loading-certificates.ipynb": trainee_06, "07-crl-checks.ipynb": trainee_07, "08-acme.ipynb": trainee_08,
           "instructor/certificate-clinic.ipynb": trainee_clinic}


def test_the_browser_checks_each_fail_on_the_canary_notebook(jupyterlab, artefacts, tmp_path):
    """tests/browser_canary.ipynb holds one defect per check: each must be reported, and the trainee's verdict
    check must fail when the widget says something else."""
    page, root = jupyterlab
    shutil.copy(CANARY, root / CANARY.name)
    try:
        found = problems(run_in_lab(page, CANARY.name))
        area = _widget(page, "Check the certificate")
        _click(area, "Check the certificate")
        says(area, "accepted")
        with pytest.raises(AssertionError):  # the widget accepted: a test that expects a refusal fails
            says(area, "refused", timeout=3_000)
        _shot(page, artefacts, "canary", area)
    finally:
        page.evaluate(_CLOSE)
    expected = ["cell 1 widget not rendered: 'Error displaying widget: model not found'",
                "cell 2 menu 'Expressway-E' is ", "cell 3 label cut: 'Sign CSR with ACME provider'",
                "cell 4 text broken mid-word: <pre>", "cell 5 table text cut: ", "cell 5 table text right-aligned: ",
                "cell 6 shows a traceback for a refusal", "cell 7 clinic text at 13px: ",
                "cell 9 raised ZeroDivisionError", "cell 10 did not run"]
    assert len(found) == len(expected) and all(f.startswith(e) for f, e in zip(found, expected, strict=True)), found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_every_notebook_runs_in_jupyterlab_and_its_widget_answers_a_trainee(jupyterlab, artefacts, path, tmp_path):
    page, _root = jupyterlab
    relative = path.relative_to(ROOT / "notebooks").as_posix()
    name = relative.replace("/", "__").removesuffix(".ipynb")
    try:
        cells = run_in_lab(page, relative)
        assert not problems(cells), problems(cells)
        views = [o for c in cells for o in c["outputs"] if WIDGET_VIEW in o["mimes"]]
        assert len(views) == _widget_views(path), "a different number of widgets than the saved notebook"
        body = page.inner_text(".jp-NotebookPanel:not(.lm-mod-hidden)")
        assert "Error displaying widget" not in body and "Loading widget..." not in body
        assert _shot(page, artefacts, name).stat().st_size > 10_000
        if relative in TRAINEE:  # a trainee uses the widget, then the page is read again
            area = TRAINEE[relative](page, tmp_path)
            assert _shot(page, artefacts, f"{name}--used", area).stat().st_size > 10_000
            after = read(page)
            assert not problems(after), problems(after)
    finally:
        page.evaluate(_CLOSE)


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """The clinic served by `make present` (Voilà on 127.0.0.1), the command an instructor types."""
    home = tmp_path_factory.mktemp("voila")
    port = free_port()
    log = home / "present.log"
    env = dict(os.environ, LABKIT_WORKDIR=str(home / "lab-work"), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    with log.open("w") as out:
        server = subprocess.Popen(["make", "-s", "present", f"PRESENT_PORT={port}", f"VENV={sys.prefix}"], cwd=ROOT,
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/", server, log, timeout=120)
        yield f"http://127.0.0.1:{port}/", log, home / "lab-work"
    finally:
        _stop(server)
    assert f"http://127.0.0.1:{port}/" in log.read_text()  # make present prints the address


def test_the_clinic_dashboard_in_voila_is_readable_on_a_projector_and_answers(browser, voila, artefacts):
    url, log, workdir = voila
    page = browser.new_page(viewport={"width": 1280, "height": 720})  # a projector's 720p
    try:
        page.goto(url, timeout=120_000)
        page.wait_for_selector(".labkit-clinic", timeout=120_000)
        page.wait_for_function("() => !document.body.innerText.includes('Loading widget')", timeout=60_000)
        page.screenshot(path=str(artefacts / "voila__certificate-clinic.png"))  # what the room sees first
        page.locator(".labkit-verdict").scroll_into_view_if_needed()
        page.screenshot(path=str(artefacts / "voila__certificate-clinic-verdict.png"))
        body = page.inner_text("body")
        assert "Error displaying widget" not in body and "Traceback" not in body, body[:2000]
        assert "1. Decode" in body and "Serial Number" in body, "the decoded certificate is not on the page"
        assert "no doctor errors; TRUSTED by" in body and "expired on" not in body
        assert body.count("Certificate clinic at") == 0 and body.count("1. Decode") == 1  # one live report only
        page.evaluate(_CHECKS)  # every text of the dashboard, the notebook's own included, at projector size
        found = page.evaluate("() => { const c = window.__labkit_checks; const page = document.body; "
                              f"return [...c.small(document, {CLINIC_MIN_PX}, 'body'), ...c.cramped(page), "
                              "...c.unreadable(page)]; }")
        assert not found, found
        # The verdict is right under the certificate: the banner starts within 150 px of the Examine button.
        gap = page.locator(".labkit-verdict").bounding_box()["y"] - page.get_by_role(
            "button", name="Examine", exact=True).bounding_box()["y"]
        assert 0 < gap < 150, f"the verdict is {gap}px below Examine"
        # An instructor presses an example: the kernel examines it and the page shows doctor's finding, in red.
        page.get_by_role("button", name="expired", exact=True).click()
        page.wait_for_function("() => document.body.innerText.includes('expired on')", timeout=30_000)
        banner = page.locator(".labkit-verdict")
        assert "Example 'expired'" in banner.inner_text() and "NOT TRUSTED" in banner.inner_text()
        assert banner.evaluate("(el) => getComputedStyle(el).backgroundColor") == "rgb(164, 38, 44)"  # #a4262c
        # A refusal: one line with its rule in the verdict's place, no report of the earlier input left.
        page.get_by_role("button", name="a CSR", exact=True).click()
        page.wait_for_function("() => document.body.innerText.includes('rule expect-certificate')", timeout=30_000)
        assert "expired on" not in page.inner_text("body")
        page.locator(".labkit-clinic").get_by_text("Not examined").scroll_into_view_if_needed()
        page.screenshot(path=str(artefacts / "voila__certificate-clinic-refusal.png"))
        # Reset asks first and says what it will delete; confirmed, it resets.
        (workdir / "05-openssl-ca").mkdir(parents=True, exist_ok=True)
        page.get_by_role("button", name="Reset lab...", exact=True).click()
        page.wait_for_function("() => document.body.innerText.includes('Reset the whole lab?')", timeout=30_000)
        assert "05-openssl-ca" in page.inner_text("body") and (workdir / "05-openssl-ca").exists()
        page.get_by_role("button", name="Yes: stop, delete and reset", exact=True).click()
        page.wait_for_function("() => document.body.innerText.includes('lab reset: clock at')", timeout=30_000)
        assert not (workdir / "05-openssl-ca").exists()
    finally:
        page.close()


# -- the classroom: the instructor's live class view -----------------------------------------------------------

@pytest.fixture(scope="module")
def classroom_hub():
    """The classroom hub (classroom/jupyterhub_config.py) with one trainee and one instructor, no servers spawned."""
    from classroom_hub import require_classroom

    require_classroom()
    from labkit.classroom.drive import LocalHub

    hub = LocalHub(["t1"], ["i1"])
    try:
        hub.start()
        yield hub
        hub.stop()
    finally:
        hub.close()


# What a trainee's kernel does on a check: labkit.exercises.check, with the hub's token and the class service's URL
# in its environment; the process stays up as a kernel does (the result is sent by a background thread).
_TRAINEE_CHECK = """
import time
from labkit.exercises import check
print(check("01.3", ["make a key pair", "send a CSR", "the CA issues the certificate"]), flush=True)
time.sleep(30)
"""


def test_the_instructor_logs_in_and_sees_the_class_table_update_after_a_trainees_check(browser, classroom_hub,
                                                                                      tmp_path, artefacts):
    from labkit.classroom.drive import Member

    hub = classroom_hub
    trainee = Member(hub.url, hub.trainees[0], hub.passwords[hub.trainees[0]]).login()
    instructor = hub.instructors[0]
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    check = None
    try:
        # The instructor signs in on the hub's page (the first login sets the password) and opens the class view.
        page.goto(f"{hub.url}/hub/login?next=/services/labkit-class/", timeout=60_000)
        page.fill("#username_input", instructor)
        page.fill("#password_input", hub.passwords[instructor])
        page.click("#login_submit")
        row = page.locator(f'#class tbody tr[data-trainee="{trainee.name}"]')
        row.wait_for(timeout=60_000)
        assert "never" in row.inner_text() and page.locator("#class td[data-exercise='01.3']").count() == 0
        assert "Nobody is stuck" in page.inner_text("#stuck")
        env = dict(os.environ, LABKIT_CLASS_URL=hub.class_url, JUPYTERHUB_API_TOKEN=trainee.token,
                   LABKIT_PROGRESS_FILE=str(tmp_path / "progress.json"))
        check = subprocess.Popen([sys.executable, "-c", _TRAINEE_CHECK], env=env, stdout=subprocess.PIPE, text=True)
        assert "PASS [01.3]" in check.stdout.readline()
        cell = page.locator(f'#class tbody tr[data-trainee="{trainee.name}"] td[data-exercise="01.3"]')
        cell.wait_for(timeout=10_000)
        page.wait_for_function(f"""() => {{
            const td = document.querySelector('tr[data-trainee="{trainee.name}"] td[data-exercise="01.3"]');
            return td && td.textContent === 'PASS' && td.classList.contains('PASS'); }}""", timeout=15_000)
        assert "UTC" in row.inner_text() and "never" not in row.inner_text()
        page.screenshot(path=str(artefacts / "classroom__class-view.png"), full_page=True)
        # The same browser session as a trainee would be refused: a trainee's token gets 403 on the page.
        assert trainee.service("GET", "").status_code == 403
    finally:
        if check is not None:
            check.kill()
            check.wait()
        page.close()
