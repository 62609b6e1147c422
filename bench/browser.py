"""Debian's Chromium, headless, on a machine with no internet: the flags that work here and
where the binary is. Shared by the map benchmark (bench.map_page) and the browser tests
(tests/support/browser.py); Playwright drives it and never downloads a browser of its own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final

# Playwright adds a fresh --user-data-dir. The resolver rule makes any host but 127.0.0.1
# unreachable; without the background-networking flags Chromium keeps trying Google's hosts.
CHROMIUM_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def chromium() -> str | None:
    """The Chromium binary: $CHROMIUM, else `chromium` on PATH; None when there is none."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    return found if found and Path(found).is_file() else None
