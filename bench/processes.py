"""Child processes of the benchmarks and the over-the-wire tests: a free loopback port, an
environment the caller alone configures, and stopping a server as Ctrl-C would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


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
