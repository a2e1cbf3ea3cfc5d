"""The built site, as a reader's browser sees it: every page opens in headless Chromium.

Needs the book built into ``_build/html`` (``make test`` builds it first) and a Chromium
binary: Debian's ``chromium`` package (``apt-get install chromium``), or the path in ``$CHROMIUM``.
Screenshots of every page land in ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest
import yaml
from browser import ROOT, SCREENSHOTS, chromium_browser
from browser import missing as _missing

HTML = ROOT / "_build" / "html"
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
# The story chapters (the first part of _toc.yml); each ends with exercises. The appendix has none.
STORY = [
    Path(entry["file"]).name
    for entry in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"][0]["chapters"]
]
PAGES = ["intro", *[f"chapters/{name}" for name in CHAPTERS], "bibliography"]


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
    with chromium_browser() as browser:
        yield browser


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
    missing_alt = page.eval_on_selector_all(
        "main img", "imgs => imgs.filter(i => !i.alt).map(i => i.src)"
    )
    assert not missing_alt, f"{name}: images without alt text: {missing_alt}"

    text = page.locator("main").inner_text()
    for raw in ("{glue", "{eval", "{cite", "{numref", ":class:", "```{"):
        assert raw not in text, f"{name}: raw MyST ({raw}) shows instead of its rendering"
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
    assert page.locator(".btn-download-source-button").count() >= 1, (
        f"{name}: no notebook download button"
    )


@pytest.mark.parametrize("name", [f"chapters/{name}" for name in CHAPTERS])
def test_every_code_block_fits_the_page(server, page, name):
    """No code block, input or output, scrolls sideways at 1280 px (chapters/ruff.toml sets the
    line length the visible code is formatted to)."""
    _open(page, f"{server}{name}.html")
    too_wide = page.eval_on_selector_all(
        "main pre",
        """blocks => blocks
            .filter(pre => pre.scrollWidth > pre.clientWidth)
            .map(pre => pre.textContent.split("\\n")
                .reduce((a, b) => (b.length > a.length ? b : a), ""))""",
    )
    assert not too_wide, f"{name}: code blocks wider than the page; longest lines: {too_wide}"


@pytest.mark.parametrize("name", [f"chapters/{name}" for name in STORY])
def test_every_story_chapter_has_exercises_with_collapsed_solutions(server, page, name):
    """Two to four exercises, each with its solution, rendered by sphinx-exercise; a solution is a
    closed dropdown until the reader opens it, and opening it shows its code."""
    _open(page, f"{server}{name}.html")
    exercises, solutions = page.locator("main div.exercise"), page.locator("main div.solution")
    assert 2 <= exercises.count() <= 4, f"{name}: {exercises.count()} exercises"
    assert solutions.count() == exercises.count(), f"{name}: an exercise lacks its solution"
    text = page.locator("main").inner_text()
    for raw in ("solution-start", "solution-end", "{exercise}", "{solution"):
        assert raw not in text, f"{name}: raw exercise markup ({raw}) shows"
    for index in range(solutions.count()):
        solution = solutions.nth(index)
        body = solution.locator("section, div.cell").first
        assert solution.is_visible() and not body.is_visible(), (
            f"{name}: solution {index + 1} is not a closed dropdown"
        )
        solution.locator(".toggle-button, button").first.click()
        assert body.is_visible(), f"{name}: solution {index + 1} does not open"


def test_a_printed_chapter_leaves_its_solutions_out(server, page, tmp_path):
    """Printing shows what the screen shows (togglebutton_open_on_print is off): the closed
    solutions stay closed in print, so a printed chapter is a worksheet (intro.md says so)."""
    _open(page, f"{server}chapters/{STORY[0]}.html")
    page.evaluate(
        """() => window.addEventListener("beforeprint", () => {
            window.solutionsInPrint = Array.from(
                document.querySelectorAll("main div.solution section")
            ).map(section => getComputedStyle(section).visibility);
        })"""
    )
    page.pdf(path=str(tmp_path / "chapter.pdf"))
    shown = page.evaluate("() => window.solutionsInPrint")
    assert shown, "printing did not run the page's print handlers"
    assert set(shown) == {"hidden"}, f"solutions print open: {shown}"
