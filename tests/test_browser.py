"""A person clicking in a browser: JupyterLab and the Voilà clinic driven in Debian's Chromium by Playwright.

JupyterLab runs on 127.0.0.1 with a token over a copy of ``notebooks/``; Chromium (``/usr/bin/chromium``, no browser
download) opens every notebook, clears it, runs all cells, and the test reads the notebook model and the page: no
error output, and every widget view rendered (no "Error displaying widget", no "Loading widget..." left). The Voilà
dashboard is served the way ``make present`` serves it and used once. Screenshots go to ``test-artefacts/browser/``.
"""

from __future__ import annotations

import contextlib
import json
import os
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

from labkit.httpd import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = ROOT / "test-artefacts" / "browser"
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CLINIC = ROOT / "notebooks" / "instructor" / "certificate-clinic.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
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
except ImportError:  # pragma: no cover - the test extra installs it
    PlaywrightTimeout = TimeoutError


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
def browser():
    sync_playwright = _playwright()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
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
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
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

_DONE = """() => {
  const panel = window.__labkit_panel;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const queued = panel.content.widgets.some(c => c.model.type === 'code' && c.promptNode.textContent.includes('*'));
  const idle = kernel && kernel.status === 'idle' && !queued;
  const done = idle && window.__labkit_idle_since && Date.now() - window.__labkit_idle_since > 750;
  window.__labkit_idle_since = idle ? (window.__labkit_idle_since || Date.now()) : 0;
  return done;
}"""

# Every code cell and its outputs, as the notebook model holds them, and what the page shows for widget views.
_READ = """() => {
  const panel = window.__labkit_panel;
  // Controls a trainee cannot read: a menu too narrow to show its choice, a label cut short.
  const cramped = (node) => {
    const found = [];
    for (const el of node.querySelectorAll('select, .widget-label, .widget-label-basic')) {
      if (el.offsetParent === null) continue;  // not shown (a closed accordion, a hidden box)
      if (el.tagName === 'SELECT') {
        if (el.offsetWidth < 80) found.push(`menu '${el.value}' is ${el.offsetWidth}px wide`);
      } else if (el.scrollWidth > el.clientWidth + 1) {
        found.push(`label cut: '${el.textContent.trim()}'`);
      }
    }
    return found;
  };
  return panel.content.widgets.map((cell, index) => {
    if (cell.model.type !== 'code') return null;
    const outputs = [];
    for (let i = 0; i < cell.model.outputs.length; i++) {
      const json = cell.model.outputs.get(i).toJSON();
      const view = cell.outputArea.widgets[i];
      outputs.push({type: json.output_type, mimes: Object.keys(json.data || {}), ename: json.ename || null,
                    evalue: json.evalue || '',
                    widget: view ? !!view.node.querySelector('.jupyter-widgets') : false,
                    shown: view ? view.node.innerText.slice(0, 200) : '',
                    cramped: view ? cramped(view.node) : []});
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


def run_in_lab(page, relative: str) -> list[dict]:
    """Open a notebook in JupyterLab, clear it, run all cells, wait for the kernel, and read every code cell back."""
    assert page.evaluate(_OPEN_AND_RUN, relative) == "python3"
    page.wait_for_function(_DONE, timeout=180_000, polling=250)
    with contextlib.suppress(PlaywrightTimeout):  # a widget still loading is reported by problems()
        page.wait_for_function("() => !document.body.innerText.includes('Loading widget...')", timeout=20_000)
    return page.evaluate(_READ)


def problems(cells: list[dict]) -> list[str]:
    """What a trainee would see go wrong: a cell that did not run, an error, a widget that did not render."""
    found = []
    for cell in cells:
        where = f"cell {cell['cell']}"
        if cell["count"] is None:
            found.append(f"{where} did not run")
        for output in cell["outputs"]:
            if output["type"] == "error":
                found.append(f"{where} raised {output['ename']}: {output['evalue']}")
            if WIDGET_VIEW in output["mimes"] and (not output["widget"] or "Error displaying widget" in output["shown"]
                                                   or "Loading widget" in output["shown"]):
                found.append(f"{where} widget not rendered: {output['shown']!r}")
            found += [f"{where} {what}" for what in output["cramped"]]
    return found


def _widget_views(path: Path) -> int:
    cells = nbformat.read(path, as_version=4).cells
    return sum(WIDGET_VIEW in o.get("data", {}) for c in cells if c.cell_type == "code" for o in c.outputs)


def _shot(page, name: str) -> Path:
    """A screenshot of the viewport, scrolled to the first widget if there is one."""
    widgets = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets")
    if widgets.count():
        widgets.first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def test_the_browser_check_sees_an_error_a_widget_that_did_not_render_and_a_cramped_menu(jupyterlab):
    page, root = jupyterlab
    canary = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(value=3)"),
        nbformat.v4.new_code_cell('display({"application/vnd.jupyter.widget-view+json": {"model_id": "gone", '
                                  '"version_major": 2, "version_minor": 0}}, raw=True)'),
        nbformat.v4.new_code_cell('ipywidgets.Dropdown(options=["Expressway-E"], description="Expressway role",\n'
                                  '                   style={"description_width": "290px"})'),
        nbformat.v4.new_code_cell("1 / 0"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(canary, root / "canary.ipynb")
    try:
        found = problems(run_in_lab(page, "canary.ipynb"))
    finally:
        page.evaluate(_CLOSE)
    expected = ["cell 1 widget not rendered: 'Error displaying widget: model not found'",
                "cell 2 menu 'Expressway-E' is ", "cell 3 raised ZeroDivisionError: division by zero",
                "cell 4 did not run"]
    assert len(found) == len(expected) and all(f.startswith(e) for f, e in zip(found, expected, strict=True)), found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_every_notebook_runs_in_jupyterlab_with_its_widgets_rendered(jupyterlab, path):
    page, _root = jupyterlab
    relative = path.relative_to(ROOT / "notebooks").as_posix()
    try:
        cells = run_in_lab(page, relative)
        assert not problems(cells), problems(cells)
        views = [o for c in cells for o in c["outputs"] if WIDGET_VIEW in o["mimes"]]
        assert len(views) == _widget_views(path), "a different number of widgets than the saved notebook"
        body = page.inner_text(".jp-NotebookPanel:not(.lm-mod-hidden)")
        assert "Error displaying widget" not in body and "Loading widget..." not in body
        assert _shot(page, relative.replace("/", "__").removesuffix(".ipynb")).stat().st_size > 10_000
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
        yield f"http://127.0.0.1:{port}/", log
    finally:
        _stop(server)
    assert f"http://127.0.0.1:{port}/" in log.read_text()  # make present prints the address


def test_the_clinic_dashboard_renders_in_voila_and_answers_a_click(browser, voila):
    url, log = voila
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url, timeout=120_000)
        page.wait_for_selector(".jupyter-widgets", timeout=120_000)
        page.wait_for_function("() => !document.body.innerText.includes('Loading widget')", timeout=60_000)
        page.screenshot(path=str(ARTEFACTS / "voila__certificate-clinic.png"), full_page=True)
        assert (ARTEFACTS / "voila__certificate-clinic.png").stat().st_size > 10_000
        body = page.inner_text("body")
        assert "Error displaying widget" not in body and "Traceback" not in body, body[:2000]
        assert "1. Decode" in body and "Serial Number" in body, "the decoded certificate is not on the page"
        assert "no doctor errors; TRUSTED by" in body and "expired on" not in body
        # An instructor presses an example: the kernel examines it and the page shows doctor's finding.
        page.get_by_role("button", name="expired", exact=True).click()
        page.wait_for_function("() => document.body.innerText.includes('expired on')", timeout=30_000)
        page.screenshot(path=str(ARTEFACTS / "voila__certificate-clinic-expired.png"), full_page=True)
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
                                                                                      tmp_path):
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
        page.screenshot(path=str(ARTEFACTS / "classroom__class-view.png"), full_page=True)
        # The same browser session as a trainee would be refused: a trainee's token gets 403 on the page.
        assert trainee.service("GET", "").status_code == 403
    finally:
        if check is not None:
            check.kill()
            check.wait()
        page.close()
