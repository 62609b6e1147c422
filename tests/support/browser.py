"""Headless Chromium for the browser tests (the playground, the map), with no internet.

The browser is Debian's Chromium (`make test` installs it when missing and running as root),
driven by Playwright's Python client with `executable_path`: Playwright never downloads a
browser here. Chromium resolves every host but 127.0.0.1 to nothing, and `OffHost` also
aborts and records any request that leaves localhost, so a CDN reference fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route, sync_playwright

from bench.browser import CHROMIUM_ARGS, chromium

INSTALL_HINT = (
    "the browser tests need Chromium: `make test` installs Debian's when run as "
    "root; else `sudo apt-get install chromium`, or set CHROMIUM=/path/to/chromium"
)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
#: Where browser tests leave their screenshots (ignored by git; CI keeps the folder).
ARTIFACTS = Path(os.environ.get("FRONTLINE_TEST_ARTIFACTS", "test-artifacts"))


def chromium_path() -> str:
    found = chromium()
    if found is None:
        pytest.fail(INSTALL_HINT)
    return found


@contextmanager
def launched_browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page's requests that left localhost, and its page errors and console errors."""

    def __init__(self, page: Page) -> None:
        self.left_localhost: list[str] = []
        self.problems: list[str] = []
        page.route("**/*", self._only_localhost)
        page.on("websocket", lambda ws: self.remember(ws.url))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)

    def _only_localhost(self, route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in LOCAL_HOSTS or request.url.startswith("data:"):
            route.continue_()
        else:
            self.left_localhost.append(request.url)
            route.abort()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console {message.type}: {message.text}")

    def remember(self, url: str) -> None:
        if not url.startswith(("data:", "blob:")) and urlsplit(url).hostname not in LOCAL_HOSTS:
            self.left_localhost.append(url)

    def remember_resources(self, page: Page) -> None:
        """Every resource the page loaded, as the browser's performance timeline lists them."""
        for url in page.evaluate("performance.getEntriesByType('resource').map(e => e.name)"):
            self.remember(url)


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under ARTIFACTS and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=path)
    return path
