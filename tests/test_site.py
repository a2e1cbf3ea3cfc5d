"""The built site, as a reader's browser sees it: every page opens in headless Chromium.

Needs the book built into ``_build/html`` (``make test`` builds it first) and a Chromium
binary: Debian's ``chromium`` package (``apt-get install chromium``), or the path in ``$CHROMIUM``.
Screenshots of every page land in ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
PAGES = ["intro", *[f"chapters/{name}" for name in CHAPTERS], "bibliography"]

# Chromium must not reach out to the network: this machine (and a reader's CI) may have none.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``$CHROMIUM``, else the first of the usual names on ``PATH``."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def _missing(reason: str):
    """Fail in CI, where the check must run; skip, with the reason, on a reader's machine."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").is_file():
        _missing(f"no built book in {HTML}: run `make book` first (`make test` does it for you)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *args: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        _missing("no Chromium found for the browser check: install Debian's `chromium` package or set $CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the browser check needs playwright: `.venv/bin/pip install -r requirements.txt`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # Generous: a busy two-core machine (CI) renders long pages with MathJax slowly.
    page.set_default_timeout(120_000)
    yield page
    context.close()


def _open(page, url: str):
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    # Wait for what a reader waits for: every image decoded and MathJax done typesetting.
    page.wait_for_function("Array.from(document.images).every(img => img.complete)")
    page.evaluate("() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null")
    return page


def _internal_links(page, base: str) -> set[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    links = set()
    for href in hrefs:
        url = urljoin(page.url, href)
        if url.startswith(base):
            links.add(url)
    return links


@pytest.mark.parametrize("name", PAGES)
def test_every_page_opens_whole_in_a_browser(server, page, name):
    _open(page, f"{server}{name}.html")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '_')}.png"), full_page=True)

    title = page.locator("main h1").first.inner_text()
    assert title.strip(), f"{name} has no title"
    assert title.strip().rstrip("#").strip() in page.title()

    broken = page.eval_on_selector_all(
        "main img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken, f"{name}: images that did not load: {broken}"
    missing_alt = page.eval_on_selector_all("main img", "imgs => imgs.filter(i => !i.alt).map(i => i.src)")
    assert not missing_alt, f"{name}: images without alt text: {missing_alt}"

    text = page.locator("main").inner_text()
    assert "{glue" not in text, f"{name}: a glue role was not replaced"
    assert "Traceback (most recent call last)" not in text, f"{name}: a Python traceback is shown"


@pytest.mark.parametrize("name", PAGES)
def test_every_internal_link_resolves(server, page, name):
    _open(page, f"{server}{name}.html")
    for url in sorted(_internal_links(page, server)):
        target, fragment = urldefrag(url)
        with urlopen(target) as response:
            assert response.status == 200, f"{name}: {url} is broken"
        if fragment and urlparse(target).path.endswith(".html"):
            html = (HTML / urlparse(target).path.lstrip("/")).read_text(encoding="utf-8")
            assert f'id="{fragment}"' in html, f"{name}: {url} points at a missing anchor"


@pytest.mark.parametrize("name", [f"chapters/{name}" for name in CHAPTERS])
def test_every_chapter_has_a_binder_launch_button(server, page, name):
    _open(page, f"{server}{name}.html")
    launch = page.locator(".dropdown-launch-buttons a[href*='mybinder.org']")
    assert launch.count() >= 1, f"{name}: no Binder launch button"
    assert f"urlpath=lab/tree/{name}.ipynb" in launch.first.get_attribute("href")
    assert page.locator(".btn-download-source-button").count() >= 1, f"{name}: no notebook download button"
