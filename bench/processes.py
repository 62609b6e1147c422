"""Child processes of the benchmarks and the over-the-wire tests: a free loopback port, an
environment the caller alone configures, a server run until it answers, and stopping it as
Ctrl-C would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import httpx

#: How long a server subprocess may take to answer (an embedded PostgreSQL, a rebuild…).
STARTUP_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without its database and Frontline settings, plus
    ``values``: a child process is configured by its caller alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FRONTLINE_"))}
    return env | values


def interrupt(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop ``process`` as Ctrl-C would; kill it if it has not stopped within ``timeout``."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def served(
    argv: list[str], env: dict[str, str], log: Path, ready: str
) -> Iterator[tuple[str, int]]:
    """Run a server subprocess on a free loopback port until ``ready`` (a path) answers;
    its URL and process id."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, *argv, str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(
            process, str(argv), log, lambda: httpx.get(url + ready, timeout=5).status_code < 500
        )
        yield url, process.pid
    finally:
        interrupt(process, timeout=20)


def wait_ready(
    process: subprocess.Popen[bytes], name: str, log: Path, probe: Callable[[], bool]
) -> None:
    """Until ``probe`` says the server answers (a refused connection is a no); a
    ClickException naming ``log`` if the process exits first or STARTUP_SECONDS pass."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise click.ClickException(f"{name} exited; see {log}")
        try:
            if probe():
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise click.ClickException(f"{name} not ready; see {log}")
        time.sleep(0.2)
