"""Headless Chromium for the browser checks (``test_site.py``, ``test_lab.py``).

Chromium is Debian's ``chromium`` package (``apt-get install chromium``) or the binary named in
``$CHROMIUM``; playwright drives it (no browser is downloaded). Without either, a check is skipped
with the reason on a reader's machine and fails in CI (``$CI`` set), where it must run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"

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


def missing(reason: str):
    """Fail in CI, where the check must run; skip, with the reason, on a reader's machine."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def chromium_browser():
    """A headless playwright ``Browser`` on the local Chromium (skips or fails without one)."""
    chromium = find_chromium()
    if chromium is None:
        missing(
            "no Chromium found for the browser check: "
            "install Debian's `chromium` package or set $CHROMIUM"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the browser check needs playwright: `.venv/bin/pip install -r requirements.txt`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
