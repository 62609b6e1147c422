"""`frontline serve` as a real process on a free loopback port, for over-the-wire tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.processes import clean_env, free_port, interrupt

STARTUP_SECONDS = 60.0


#: A served process is configured by the test alone.
serve_env = clean_env


@dataclass(frozen=True)
class Spawned:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: Path

    def wait_healthy(self, seconds: float = STARTUP_SECONDS) -> None:
        """Until /healthz answers 200; fails the test if the process exits first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_running()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"serve not healthy after {seconds}s:\n{self.log.read_text()}")

    def check_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"serve exited with {self.process.returncode}:\n{self.log.read_text()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def spawn_serve(
    env: Mapping[str, str], log: Path, ready: Callable[[Spawned], None] = Spawned.wait_healthy
) -> Iterator[Spawned]:
    """Run `frontline serve` (output appended to ``log``) until the block ends, yielding it
    once ``ready`` returns; stopped as Ctrl-C would, killed if it will not stop."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontline", "serve", "--port", str(port)],
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    spawned = Spawned(f"http://127.0.0.1:{port}", process, log)
    try:
        ready(spawned)
        yield spawned
    finally:
        interrupt(process, timeout=15)
