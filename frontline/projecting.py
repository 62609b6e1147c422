"""The projector that `serve` runs: a child process, tied to the server's life.

It used to be a thread of the server. Projection is CPU-bound Python, and a thread shares the
interpreter's lock with the requests: each write's own projection ran while the next request
waited for the lock (bench: one mutation p50 8.6 ms with the thread, 4.6 ms without it; the
write alone took 3.4 ms instead of 1.8). As a process it runs on the other core.

The child is `frontline project` on the same DSN. It must not outlive the server, or a
`kill -9` of the server would leave it projecting: it asks Linux to SIGKILL it when its
parent dies (``PR_SET_PDEATHSIG``) — exactly what happened to the projector thread, and safe,
since a batch is one transaction — and, anywhere, watches its parent's pid (``watch_parent``).
Should two ever run, the advisory lock lets one project and the other stand by.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
from typing import Final

logger = logging.getLogger(__name__)

PARENT_ENV: Final = "FRONTLINE_PROJECTOR_PARENT"  # the server's pid, set for the child
_PR_SET_PDEATHSIG: Final = 1
STOP_SECONDS: Final = 30.0


class ProjectorProcess:
    """`frontline project` as a child of this process."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = child_env(self.dsn)
        # stdout/stderr inherited: its log lines go where the server's go.
        self.process = subprocess.Popen([sys.executable, "-m", "frontline", "project"], env=env)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """SIGTERM (it finishes its batch: one transaction) and wait; kill if it hangs."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("projector did not stop in %.0f s; killing it", timeout)
            process.kill()
            process.wait()


def child_env(dsn: str, **settings: str) -> dict[str, str]:
    """The environment of a child of this process on ``dsn``: this one's, on the resolved
    DSN (no embedded server to start again), knowing its parent, with ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    return env | {"DATABASE_URL": dsn, PARENT_ENV: str(os.getpid())} | settings


def die_with_parent() -> int | None:
    """In the child: have the kernel SIGKILL us when the server dies. Returns the server's
    pid (None when not started by a server)."""
    parent = os.environ.get(PARENT_ENV)
    if parent is None:
        return None
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    return int(parent)


async def watch_parent(parent: int, stop: asyncio.Event, interval: float = 1.0) -> None:
    """Set ``stop`` once ``parent`` is gone (it died before prctl, or this is not Linux)."""
    while not stop.is_set():
        if os.getppid() != parent:
            logger.warning("the server (pid %d) is gone; the projector stops", parent)
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
