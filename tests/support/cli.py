"""The `frontline` command as a user runs it: a fresh process, configured by the test alone."""

from __future__ import annotations

import subprocess
import sys

from tests.support.serving import serve_env


def run_frontline(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """`frontline ARGS` with only ``env`` as its settings (DATABASE_URL=..., FRONTLINE_...),
    its output captured as text; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "frontline", *args],
        env=serve_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
