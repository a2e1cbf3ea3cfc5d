"""The chapters as a reader runs them in JupyterLab: opened, Run All, read in headless Chromium.

JupyterLab, with the ``jupyterlab-myst`` extension (it renders the MyST markdown and evaluates the
``{eval}`` roles when a markdown cell runs), starts from this virtualenv on 127.0.0.1 at a free
port, in a temporary copy of the repository: JupyterLab autosaves, and nothing it does may touch
the real chapters. Its user settings, workspaces, runtime and data folders are temporary as well
(so a reader's own settings do not apply, the virtualenv's do), autosave is off, and it needs no
network. The kernels reuse the fits the book build stored (``$RADON_FIT_CACHE`` is this
repository's ``_build/fits``), so a chapter takes seconds, not minutes.

For each chapter in ``LAB_CHAPTERS`` the check opens ``/lab/tree/chapters/<name>.ipynb``, as a
reader who started ``jupyter lab`` at the repository root does, and asserts that

* the tab is not marked modified, right after opening and once the kernel has started (the
  chapters carry the notebook metadata JupyterLab itself writes for this kernel);
* after Run All (the Run menu) every code cell ran, and none shows an error or a traceback;
* every markdown cell with an ``{eval}`` got its results from the kernel, and shows no raw MyST
  (``{eval``, ``{glue``, ``{cite``, ``{numref``, ``:class:``, a directive fence, an unknown
  directive), no unresolved reference and no inline expression's error;
* every ``{eval}`numbers.NAME``` shows the text the chapter recorded for it in
  ``_build/numbers/<chapter>.shown.json`` (written in the copy as the chapter runs);
* closing the notebook without saving leaves its file as it was.

Screenshots of each notebook after Run All land in ``_build/screenshots/``: ``lab-<chapter>.png``
(the whole notebook; ``-p2.png``, ... continue it past 16,000 px), ``lab-<chapter>-numbers.png``
(its first paragraph with numbers), and ``lab-<chapter>-failed.png`` when the check gave up.

Two small synthetic notebooks, written into the copy, test the check itself whatever state the
chapters are in: one that must pass every assertion, one that must fail each of them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.parse import quote, urlparse
from urllib.request import Request, urlopen

import pytest
from browser import ROOT, SCREENSHOTS, chromium_browser, missing

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the browser fixture skips (or fails, in CI) with the reason
    PlaywrightTimeout = TimeoutError

CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
# The first chapter (where a reader starts) and the longest (the most markdown cells and {eval}s).
# Not all seven: even with the fits the book build stored, each chapter takes up to a minute here
# (open, Run All, read, screenshots), too long for `make test` to run them all; each chapter's code
# runs under nbval anyway. Add a chapter here when its prose changes a lot.
LAB_CHAPTERS = ["01_radon_data", "04_how_wrong"]
# Seconds a chapter may take from Run All to its last cell: the slowest takes about a minute with
# stored fits; without them, or on a busy two-core CI machine, it takes several times longer.
RUN_TIMEOUT_S = 240
# Seconds for JupyterLab to start, and for a notebook to open with its kernel ready.
START_TIMEOUT_S = 90
# Seconds the {eval} results may take once the code cells are done (they take a fraction of one).
EVAL_GRACE_S = 15
# The tallest window a screenshot is taken in (Chromium's limit for one capture is 16,384 px).
MAX_SCREENSHOT_PX = 16_000

FITS = ROOT / "_build" / "fits"
# The synthetic notebooks, in the copy only (beside the chapters, so they run where a chapter does).
HARNESS = "chapters/_lab_harness.ipynb"
BROKEN = "chapters/_lab_broken.ipynb"

# What must not show in a rendered markdown cell: MyST that was not rendered. (jupyterlab-myst
# shows an unknown directive as a box titled "<name> - Unknown Directive", with its options raw.)
RAW_MYST = ["{eval", "{glue", "{cite", "{numref", ":class:", "```{", ":::{", "Unknown Directive"]
# A role jupyterlab-myst does not know shows as its bare content, which no rendered text betrays:
# these are looked for in the markdown source. (Jupyter Book's {glue} is one: Lab has no glue.)
UNKNOWN_ROLE = re.compile(r"\{glue(?::\w+)?\}`")
# An {eval} role naming one of the chapter's numbers.
EVAL_NUMBER = re.compile(r"\{eval\}`\s*numbers\.([A-Za-z_]\w*)\s*`")


# --- JupyterLab in a temporary copy of the repository ------------------------------------------


def _repository_files() -> list[Path]:
    """The files a clone has, as the working tree holds them: tracked or new, not ignored."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.fail(f"cannot list the repository's files with git in {ROOT}: {error}")
    return sorted({Path(name) for name in listing.split("\0") if name and (ROOT / name).is_file()})


def _copy_repository(destination: Path) -> Path:
    for name in _repository_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return destination


def _write_settings(settings: Path) -> None:
    """User settings: no autosave; no news and no update check (no network)."""
    for plugin, values in {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@dataclass
class Lab:
    url: str  # ends with "/"
    token: str
    root: Path  # the repository copy JupyterLab serves
    log: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, method: str, path: str) -> object:
        request = Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "api/sessions"):
            self.api("DELETE", f"api/sessions/{session['id']}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_for_server(process: subprocess.Popen, runtime: Path, log: Path, token: str) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    info_file = runtime / f"jpserver-{process.pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"JupyterLab exited with {process.returncode}:\n"
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            url = json.loads(info_file.read_text())["url"]
            with urlopen(
                Request(f"{url}api/status", headers={"Authorization": f"token {token}"}), timeout=5
            ):
                return url
        except (ValueError, KeyError, OSError, URLError):
            time.sleep(0.25)
    pytest.fail(
        f"JupyterLab did not answer within {START_TIMEOUT_S} s:\n"
        f"{log.read_text(errors='replace')[-3000:]}"
    )


def _stop(process: subprocess.Popen, url: str | None, token: str) -> None:
    """Shut JupyterLab down with its kernels; end the process group it leads if it lingers."""
    if process.poll() is None and url:
        try:
            request = Request(
                f"{url}api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
            )
            urlopen(request, timeout=10)
        except OSError:
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    for module, package in (("jupyterlab", "jupyterlab"), ("jupyterlab_myst", "jupyterlab-myst")):
        if importlib.util.find_spec(module) is None:
            missing(
                f"the JupyterLab check needs {package}: `.venv/bin/pip install -r requirements.txt`"
            )
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        missing(
            f"no `jupyter` command beside {sys.executable}: "
            "run the tests with the virtualenv's Python"
        )

    base = tmp_path_factory.mktemp("lab")
    root = _copy_repository(base / "repository")
    home = {
        name: base / name
        for name in ("settings", "workspaces", "runtime", "data", "config", "ipython")
    }
    for folder in home.values():
        folder.mkdir()
    _write_settings(home["settings"])

    env = dict(os.environ)
    env.pop("RADON_NUMBERS", None)  # the chapters record their numbers in the copy's _build/numbers
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(home["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(home["workspaces"]),
        JUPYTER_RUNTIME_DIR=str(home["runtime"]),
        JUPYTER_DATA_DIR=str(home["data"]),  # also holds the notebook trust database
        JUPYTER_CONFIG_DIR=str(home["config"]),  # no user config (the virtualenv's still applies)
        IPYTHONDIR=str(home["ipython"]),
        RADON_FIT_CACHE=str(FITS),
        RADON_PROGRESS="0",
    )
    token = secrets.token_hex(24)
    log = base / "jupyterlab.log"
    command = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        # No network: no news feed, no update check, no extension listing from PyPI.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # window.jupyterapp: the check reads the notebook's state (dirty, kernel, cells) from it.
        "--LabApp.expose_app_in_browser=True",
        # CI containers run as root, where JupyterLab refuses to start without this.
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]
    url = None
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = _wait_for_server(process, home["runtime"], log, token)
        server = Lab(url=url, token=token, root=root, log=log, process=process)
        _write_harness(server)
        yield server
    finally:
        _stop(process, url, token)


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    offsite: list[str] = []

    def local_only(route):
        # The check needs no network; a request elsewhere is recorded, and answered by no one.
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    page.set_default_timeout(START_TIMEOUT_S * 1000)
    page.offsite_requests = offsite
    yield page
    context.close()
    lab.shut_down_kernels()  # also after a failure halfway: the next notebook runs alone


# --- one notebook, opened and run as a reader does --------------------------------------------

# The notebook's panel in JupyterLab, found by its path (window.jupyterapp: expose_app_in_browser).
_PANEL = """(path) => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    for (const widget of app.shell.widgets('main')) {
        if (widget.context && widget.context.path === path) return widget;
    }
    return null;
}"""

_DIRTY = f"""(path) => {{
    const panel = ({_PANEL})(path);
    const tabs = Array.from(document.querySelectorAll('.lm-DockPanel-tabBar .lm-TabBar-tab'))
        .filter(tab =>
            (tab.querySelector('.lm-TabBar-tabLabel') || {{}}).textContent === panel.title.label);
    return {{
        model: panel.context.model.dirty,
        tab: tabs.length === 1 ? tabs[0].classList.contains('jp-mod-dirty') : null,
        metadata: panel.context.model.metadata,
    }};
}}"""

# The kernel has started and JupyterLab has written what it reports into the notebook's metadata.
_KERNEL_READY = f"""async (path) => {{
    const panel = ({_PANEL})(path);
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!kernel) return false;
    const info = await kernel.info;
    const sorted = value => JSON.stringify(value, (key, v) =>
        v && typeof v === 'object' && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).sort()) : v);
    const meta = panel.context.model.metadata;
    return kernel.status === 'idle' && !!meta.kernelspec && meta.kernelspec.name === kernel.name
        && sorted(meta.language_info) === sorted(info.language_info);
}}"""

# Run All has finished: the kernel is idle, no cell is queued, and every code cell ran, or one
# failed (Run All stops there).
_RUN_FINISHED = f"""(path) => {{
    const panel = ({_PANEL})(path);
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    let queued = false, unrun = false, failed = false;
    for (const cell of panel.content.widgets) {{
        if (cell.model.type !== 'code') continue;
        const prompt = cell.node.querySelector('.jp-InputArea-prompt');
        if (prompt && prompt.textContent.includes('*')) queued = true;
        if (cell.model.executionCount === null) unrun = true;
        if (cell.model.outputs.toJSON().some(output => output.output_type === 'error'))
            failed = true;
    }}
    return !!kernel && kernel.status === 'idle' && !queued && (failed || !unrun);
}}"""

# Every markdown cell with an {eval} has its results, which jupyterlab-myst stores in the cell's
# metadata. (Its requests reach the kernel after every code cell Run All queued: each {eval} shows
# the value at the end of the notebook, not where the cell stands.)
_EVALS_DONE = f"""(path) => ({_PANEL})(path).content.widgets.every(cell =>
    cell.model.type !== 'markdown'
    || !cell.model.sharedModel.getSource().includes('{{eval}}')
    || !!cell.model.getMetadata('user_expressions'))"""

# What each cell holds and shows once run. Each markdown cell is scrolled into view first and read
# as the reader sees it there: in JupyterLab's "full" windowing mode (4.4's default) only the cells
# near the viewport are in the page.
_CELLS = f"""async (path) => {{
    const panel = ({_PANEL})(path), notebook = panel.content;
    const frame = () =>
        new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const cells = [];
    for (const [index, cell] of notebook.widgets.entries()) {{
        if (cell.model.type === 'markdown') {{
            if (notebook.scrollToItem) await notebook.scrollToItem(index, 'start');
            else cell.node.scrollIntoView();
            await frame();
        }}
        const rendered = cell.model.type === 'markdown'
            ? cell.node.querySelector('.myst') || cell.node.querySelector('.jp-MarkdownOutput')
            : null;
        cells.push({{
            index,
            type: cell.model.type,
            source: cell.model.sharedModel.getSource(),
            executionCount: cell.model.type === 'code' ? cell.model.executionCount : null,
            outputs: cell.model.type === 'code' ? cell.model.outputs.toJSON() : [],
            userExpressions: cell.model.getMetadata('user_expressions') || null,
            rendered: cell.model.type === 'markdown' ? !!cell.rendered : null,
            text: rendered ? rendered.textContent : null,
            inlineErrors: rendered
                ? Array.from(
                    rendered.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')
                ).map(node => node.textContent)
                : [],
            // jupyterlab-myst shows an unresolved citation or cross-reference as its bare key,
            // titled so.
            unresolved: rendered
                ? Array.from(rendered.querySelectorAll('[title$="Not Found"]'))
                    .map(node => node.getAttribute('title') + ': ' + node.textContent)
                : [],
        }});
    }}
    return cells;
}}"""

# Which JupyterLab, and how it lays out a notebook (for the report).
_LAB_INFO = f"""(path) => ({{
    version: window.jupyterapp.version,
    windowing: (({_PANEL})(path).content.notebookConfig || {{}}).windowingMode || 'unknown',
}})"""


@dataclass
class Run:
    """A notebook as JupyterLab showed it: dirty states, timings, every cell after Run All."""

    path: str
    lab_info: dict  # JupyterLab's version and windowing mode
    dirty_on_open: dict
    dirty_with_kernel: dict
    file_metadata: dict
    cells: list[dict]
    shown: dict[str, str] | None  # the numbers the notebook recorded, as its prose shows them
    seconds: dict[str, float]
    unchanged_on_disk: bool
    offsite_requests: list[str]


def _run_in_lab(lab: Lab, page, path: str) -> Run:
    """Open ``path`` as a reader does, Run All, read every cell, take screenshots, close unsaved."""
    try:
        return _open_run_close(lab, page, path)
    except Exception:
        # What the reader would have seen when the check gave up, and what JupyterLab logged.
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"lab-{Path(path).stem}-failed.png"))
        print(f"JupyterLab's log, last lines:\n{lab.log_tail()}")
        raise


def _open_run_close(lab: Lab, page, path: str) -> Run:
    notebook = lab.root / path
    before = hashlib.sha256(notebook.read_bytes()).hexdigest()
    file_metadata = json.loads(notebook.read_text())["metadata"]
    seconds = {}

    start = time.monotonic()
    page.goto(f"{lab.url}lab/tree/{quote(path)}?reset&token={lab.token}")
    page.wait_for_function(
        f"path => {{ const p = ({_PANEL})(path); return !!p && p.context.isReady; }}", arg=path
    )
    seconds["open"] = time.monotonic() - start
    _require_myst(page)
    dirty_on_open = page.evaluate(_DIRTY, path)

    page.wait_for_function(_KERNEL_READY, arg=path, polling=250)
    seconds["kernel"] = time.monotonic() - start - seconds["open"]
    dirty_with_kernel = page.evaluate(_DIRTY, path)

    start = time.monotonic()
    page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^\s*Run\s*$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(_RUN_FINISHED, arg=path, polling=500, timeout=RUN_TIMEOUT_S * 1000)
    try:
        page.wait_for_function(_EVALS_DONE, arg=path, polling=250, timeout=EVAL_GRACE_S * 1000)
    except PlaywrightTimeout:
        pass  # the cells left without results are reported below, with what they show
    seconds["run_all"] = time.monotonic() - start
    page.wait_for_timeout(500)  # the last markdown cells re-render with their results
    lab_info = page.evaluate(_LAB_INFO, path)
    cells = page.evaluate(_CELLS, path)

    stem = Path(path).stem
    _screenshots(page, path, stem, cells)
    _close_without_saving(page, path)

    shown_file = lab.root / "_build" / "numbers" / f"{stem}.shown.json"
    return Run(
        path=path,
        lab_info=lab_info,
        dirty_on_open=dirty_on_open,
        dirty_with_kernel=dirty_with_kernel,
        file_metadata=file_metadata,
        cells=cells,
        shown=json.loads(shown_file.read_text()) if shown_file.is_file() else None,
        seconds=seconds,
        unchanged_on_disk=hashlib.sha256(notebook.read_bytes()).hexdigest() == before,
        offsite_requests=list(page.offsite_requests),
    )


def _require_myst(page) -> None:
    active = page.evaluate("""() => {
        const app = window.jupyterapp;
        return app.listPlugins().filter(id => id.startsWith('jupyterlab-myst:'))
            .filter(id => !app.isPluginActivated || app.isPluginActivated(id));
    }""")
    if not active:
        missing(
            "jupyterlab-myst is installed but not active in JupyterLab: "
            "see `jupyter labextension list`"
        )


def _screenshots(page, path: str, stem: str, cells: list[dict]) -> None:
    """The whole notebook from the top, in a window as tall as Chromium allows (``lab-<stem>.png``,
    then ``lab-<stem>-p2.png``, ... for what is below), and its first paragraph with numbers in the
    reader's window (``lab-<stem>-numbers.png``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"lab-{stem}*.png"):
        old.unlink()
    viewport = page.viewport_size
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
    scroll_to = f"""async ([path, top]) => {{
        const notebook = ({_PANEL})(path).content;
        const scroller = notebook.node.querySelector('.jp-WindowedPanel-outer') || notebook.node;
        scroller.scrollTop = top;
        await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        // Where the last cell ends (JupyterLab pads the notebook below it), if it is in the page.
        const last = notebook.widgets[notebook.widgets.length - 1].node;
        const end = last.isConnected
            ? last.getBoundingClientRect().bottom - scroller.getBoundingClientRect().top
                + scroller.scrollTop + 16
            : scroller.scrollHeight;
        return [scroller.scrollTop, scroller.clientHeight, Math.min(end, scroller.scrollHeight)];
    }}"""
    height = viewport["height"]
    for _ in range(4):  # cells not yet in the page have estimated heights: grow until it fits
        _, client, total = page.evaluate(scroll_to, [path, 0])
        if total <= client or height >= MAX_SCREENSHOT_PX:
            break
        height = min(height + math.ceil(total - client), MAX_SCREENSHOT_PX)
        page.set_viewport_size({"width": viewport["width"], "height": height})
        page.wait_for_timeout(500)
    for number in range(1, 11):
        top, client, total = page.evaluate(scroll_to, [path, (number - 1) * client])
        page.wait_for_timeout(300)
        panel.screenshot(
            path=str(SCREENSHOTS / f"lab-{stem}{'' if number == 1 else f'-p{number}'}.png")
        )
        if top + client >= total - 1:
            break
    page.set_viewport_size(viewport)
    page.wait_for_timeout(500)
    with_numbers = next(
        (
            cell["index"]
            for cell in cells
            if cell["type"] == "markdown" and EVAL_NUMBER.search(cell["source"])
        ),
        None,
    )
    if with_numbers is not None:
        page.evaluate(
            f"""async ([path, index]) => {{
                const notebook = ({_PANEL})(path).content, node = notebook.widgets[index].node;
                if (!node.isConnected && notebook.scrollToItem) {{
                    await notebook.scrollToItem(index, 'center');
                }}
                node.scrollIntoView({{block: 'center'}});
            }}""",
            [path, with_numbers],
        )
        page.wait_for_timeout(500)
        panel.screenshot(path=str(SCREENSHOTS / f"lab-{stem}-numbers.png"))


def _close_without_saving(page, path: str) -> None:
    """Close the tab as a reader does (File > Close Tab), answering "Discard" when JupyterLab asks
    "Save your work"."""
    dirty = page.evaluate(
        f"""path => {{
            const app = window.jupyterapp, panel = ({_PANEL})(path);
            const dirty = panel.context.model.dirty;
            app.shell.activateById(panel.id);
            void app.commands.execute('application:close');
            return dirty;
        }}""",
        path,
    )
    if dirty:
        # The button reads "Discard" (its accessible name, "Discard changes to file", varies by
        # version).
        page.locator(".jp-Dialog").get_by_role("button", name=re.compile(r"^Discard")).click()
    page.wait_for_function(f"path => !({_PANEL})(path)", arg=path)


# --- what the reader must see -------------------------------------------------------------------


def _kernel_metadata(lab: Lab) -> dict:
    """The notebook metadata JupyterLab writes for the default kernel of this virtualenv."""
    specs = lab.api("GET", "api/kernelspecs")
    spec = specs["kernelspecs"][specs["default"]]["spec"]
    from ipykernel.ipkernel import IPythonKernel  # the kernel runs on this Python: same answer

    return {
        "kernelspec": {
            "display_name": spec["display_name"],
            "language": spec["language"],
            "name": specs["default"],
        },
        "language_info": dict(IPythonKernel.language_info),
    }


def _plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _problems(run: Run) -> list[str]:
    """Everything a reader of ``run`` would find wrong, one line each (empty: all is well)."""
    problems = []
    for moment, dirty in (
        ("on opening", run.dirty_on_open),
        ("once the kernel started", run.dirty_with_kernel),
    ):
        if dirty["tab"] is None:
            problems.append(f"dirty: no single tab shows the notebook {moment}")
        if dirty["model"] or dirty["tab"]:
            changed = sorted(
                key
                for key in {*dirty["metadata"], *run.file_metadata}
                if dirty["metadata"].get(key) != run.file_metadata.get(key)
            )
            if changed == ["language_info"] and _only_python_version_differs(
                run, dirty["metadata"]
            ):
                warnings.warn(
                    f"{run.path}: the tab is marked modified {moment} "
                    "only because this kernel's Python "
                    f"({dirty['metadata']['language_info']['version']}) "
                    "is not the one the notebook records "
                    f"({run.file_metadata['language_info']['version']})",
                    stacklevel=1,
                )
                continue
            what = (
                "metadata JupyterLab changed: "
                f"{json.dumps({k: dirty['metadata'].get(k) for k in changed})}"
                if changed
                else "cells changed"
            )
            problems.append(f"dirty: the tab is marked modified {moment} ({what})")

    for cell in run.cells:
        where = f"cell {cell['index']}"
        if cell["type"] == "code":
            if cell["executionCount"] is None:
                problems.append(f"unrun: {where} did not run")
            for output in cell["outputs"]:
                if output["output_type"] == "error":
                    problems.append(f"error: {where} raised {output['ename']}: {output['evalue']}")
                elif "Traceback (most recent call last)" in json.dumps(output):
                    problems.append(f"error: {where} shows a traceback")
        elif cell["type"] == "markdown":
            if not cell["rendered"] or cell["text"] is None:
                problems.append(f"unrendered: markdown {where} is not rendered")
                continue
            text = _plain(cell["text"])
            problems += [f"raw: markdown {where} shows {raw!r}" for raw in RAW_MYST if raw in text]
            problems += [
                f"raw: markdown {where} uses {role!r}, which JupyterLab cannot render"
                for role in UNKNOWN_ROLE.findall(cell["source"])
            ]
            problems += [
                f"unresolved: markdown {where} shows {_plain(u)!r}" for u in cell["unresolved"]
            ]
            problems += [
                f"inline-error: markdown {where} shows {_plain(e)!r}" for e in cell["inlineErrors"]
            ]
            if "{eval}" in cell["source"] and cell["userExpressions"] is None:
                problems.append(
                    f"unevaluated: markdown {where} shows its {{eval}} roles unevaluated: "
                    f"{text[:160]!r}"
                )
                continue
            for expression in cell["userExpressions"] or []:
                if expression["result"].get("status") != "ok":
                    problems.append(
                        f"inline-error: markdown {where}: `{expression['expression']}` failed"
                    )
            for name in EVAL_NUMBER.findall(cell["source"]):
                if run.shown is None:
                    problems.append(
                        "numbers: the notebook recorded no numbers, "
                        f"but {where} shows numbers.{name}"
                    )
                elif name not in run.shown:
                    problems.append(
                        f"numbers: {where} shows numbers.{name}, which the notebook did not record"
                    )
                elif _plain(run.shown[name]) not in text or f"numbers.{name}" in text:
                    problems.append(
                        f"numbers: {where} does not show numbers.{name} "
                        f"as {run.shown[name]!r}: {text[:160]!r}"
                    )
    if not run.unchanged_on_disk:
        problems.append(f"saved: closing without saving changed {run.path}")
    if run.offsite_requests:
        problems.append(f"network: JupyterLab asked for {sorted(set(run.offsite_requests))}")
    return problems


def _only_python_version_differs(run: Run, metadata: dict) -> bool:
    ours, theirs = (
        dict(metadata.get("language_info", {})),
        dict(run.file_metadata.get("language_info", {})),
    )
    return ours.pop("version", None) != theirs.pop("version", None) and ours == theirs


def _report(run: Run, problems: list[str]) -> str:
    times = ", ".join(f"{step} {value:.1f} s" for step, value in run.seconds.items())
    lab = f"JupyterLab {run.lab_info['version']}, windowing mode {run.lab_info['windowing']}"
    if run.lab_info["windowing"] != "none" and any(p.startswith("unevaluated") for p in problems):
        problems = [
            *problems,
            (
                "  (jupyterlab-myst evaluates only markdown cells it has rendered, "
                "and in this windowing mode "
                "JupyterLab renders a cell when it comes into view; "
                "the notebook setting windowingMode "
                '"none" renders every cell on opening, '
                "e.g. in <venv>/share/jupyter/lab/settings/overrides.json: "
                '{"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}})'
            ),
        ]
    return f"{run.path} in {lab} ({times}):\n" + "\n".join(f"  {p}" for p in problems)


# --- the checks ---------------------------------------------------------------------------------


def test_lab_harness(page, lab):
    """The check itself, on a small notebook with what the chapters use: it passes, and shows."""
    run = _run_in_lab(lab, page, HARNESS)
    problems = _problems(run)
    print(_report(run, problems or ["all well"]))
    assert not problems, _report(run, problems)
    texts = {cell["index"]: _plain(cell["text"] or "") for cell in run.cells}
    assert "The slope is 0.26 per floor, from 919 homes" in texts[2]
    assert texts[3].startswith("A tip") and "Only 13% of the homes" in texts[3]


def test_lab_harness_finds_faults(page, lab):
    """The check reports each fault of a notebook made to have them all."""
    run = _run_in_lab(lab, page, BROKEN)
    problems = _problems(run)
    print(_report(run, problems))
    kinds = {problem.split(":")[0] for problem in problems}
    assert {"dirty", "error", "inline-error", "numbers", "raw", "unresolved"} <= kinds, _report(
        run, problems
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", LAB_CHAPTERS)
def test_chapter_runs_clean_in_lab(page, lab, name, record_property):
    assert name in CHAPTERS, f"LAB_CHAPTERS names {name}, which is not in chapters/"
    run = _run_in_lab(lab, page, f"chapters/{name}.ipynb")
    for step, value in run.seconds.items():
        record_property(f"{step}_seconds", round(value, 1))
    problems = _problems(run)
    print(_report(run, problems or ["all well"]))
    assert not problems, _report(run, problems)


# --- the synthetic notebooks ---------------------------------------------------------------------

_NUMBERS_CLASS = '''\
import json
from pathlib import Path


class Numbers:
    """What a chapter's ``numbers`` offers: each attribute is the text the prose shows."""

    def __init__(self, stem, **numbers):
        for name, (value, shown) in numbers.items():
            setattr(self, name, shown)
        here = Path.cwd().resolve()
        root = next(p for p in (here, *here.parents) if (p / "_config.yml").exists())
        folder = root / "_build" / "numbers"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.json").write_text(json.dumps({k: v for k, (v, s) in numbers.items()}))
        (folder / f"{stem}.shown.json").write_text(
            json.dumps({k: s for k, (v, s) in numbers.items()})
        )
'''


def _notebook(path: Path, metadata: dict, cells: list[tuple]) -> None:
    content = []
    for index, (kind, source, *cell_metadata) in enumerate(cells):
        cell = {
            "cell_type": kind,
            "id": f"cell-{index}",
            "metadata": cell_metadata[0] if cell_metadata else {},
        }
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cell["source"] = source
        content.append(cell)
    notebook = {"cells": content, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def _write_harness(lab: Lab) -> None:
    """Two notebooks like a chapter: one all a reader should see, one with every fault."""
    numbers = {"slope": (0.2592, "0.26"), "n_homes": (919, "919"), "share": (0.131, "13%")}
    _notebook(
        lab.root / HARNESS,
        _kernel_metadata(lab),
        [
            (
                "markdown",
                "# The harness\n\nA notebook like a chapter, to test the JupyterLab check.",
            ),
            (
                "code",
                f"{_NUMBERS_CLASS}\nnumbers = Numbers({Path(HARNESS).stem!r}, **{numbers!r})",
                {"jupyter": {"source_hidden": True}},
            ),
            (
                "markdown",
                "The slope is {eval}`numbers.slope` per floor, from {eval}`numbers.n_homes` homes; "
                "the county scale $\\sigma_b$ satisfies $\\sigma_b > 0$.",
            ),
            (
                "markdown",
                "```{admonition} A tip\n:class: tip\n"
                "Only {eval}`numbers.share` of the homes have a basement.\n```",
            ),
            ("code", "print(numbers.slope)"),
        ],
    )
    # Stale metadata (the tab turns modified when the kernel starts), an error output, a number not
    # recorded, a role and a directive jupyterlab-myst does not know, a citation it cannot resolve.
    # (The error is shown, not raised: an exception stops Run All, and can stop the {eval}s too.)
    stale = {"kernelspec": _kernel_metadata(lab)["kernelspec"], "language_info": {"name": "python"}}
    _notebook(
        lab.root / BROKEN,
        stale,
        [
            (
                "code",
                f"{_NUMBERS_CLASS}\n"
                f"numbers = Numbers({Path(BROKEN).stem!r}, slope=(0.2592, '0.26'))",
            ),
            (
                "code",
                "try:\n    1 / 0\nexcept ZeroDivisionError:\n    get_ipython().showtraceback()",
            ),
            (
                "markdown",
                "The slope is {eval}`numbers.slope`; the intercept is {eval}`numbers.intercept`.",
            ),
            ("markdown", "A glued number: {glue:text}`slope`, as {cite}`nobody2099` has it."),
            ("markdown", "```{glue:figure} slope_plot\n:name: fig-slope\nThe slope.\n```"),
        ],
    )
