"""`frontline serve` as a real process on a free loopback port, for over-the-wire tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_env(**values: str) -> dict[str, str]:
    """This process's environment without its database and Frontline settings, plus
    ``values``: a served process is configured by the test alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FRONTLINE_"))}
    return env | values


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
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
