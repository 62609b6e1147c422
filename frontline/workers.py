"""`frontline serve --workers N`: N API processes answering on one listening socket.

Python runs one request at a time per process, so one process uses one core. The parent
prepares the database once (migrations, outdated read models, the sample), binds the socket,
starts the one projector (frontline.projecting), and starts N workers that inherit the socket
(``frontline serve --fd``): the kernel hands each new connection to one of them. Every worker
has its own pool, its own LISTEN (api.live.broadcast: subscriptions work whichever worker a
client lands on) and its own limits, so per-process bounds (sockets, connections) admit N
times as many in all.

A worker that dies is started again (its clients reconnect, as to any server); workers die
with the parent (``PR_SET_PDEATHSIG``, as the projector does). SIGINT or SIGTERM stops the
workers (each finishes its requests, as uvicorn does alone), then the projector.

uvicorn's own ``workers=`` would pickle its configuration into each child, and the bounded
protocol class (frontline.http_server) is made per settings; passing the socket is simpler.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Final

from frontline.projecting import PARENT_ENV, ProjectorProcess

logger = logging.getLogger(__name__)

#: A worker that exits sooner than this after starting is not restarted at once (crash loop).
RESTART_BACKOFF_SECONDS: Final = 1.0
STOP_SECONDS: Final = 30.0
BACKLOG: Final = 2048


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


class Workers:
    """The worker processes of one `serve`, and the projector beside them."""

    def __init__(self, dsn: str, sock: socket.socket, count: int, verbose: bool) -> None:
        self.dsn = dsn
        self.sock = sock
        self.count = count
        self.verbose = verbose
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self.started: list[float] = [0.0] * count
        self.projector = ProjectorProcess(dsn)
        self.stopping = False

    def argv(self) -> Sequence[str]:
        return [
            sys.executable, "-m", "frontline", *(["-v"] if self.verbose else []),
            "serve", "--fd", str(self.sock.fileno()),
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        return env | {
            "DATABASE_URL": self.dsn,
            PARENT_ENV: str(os.getpid()),
            # The parent prepared the database and runs the one projector.
            "FRONTLINE_RUN_PROJECTOR": "false",
            "FRONTLINE_LOAD_SAMPLE": "false",
        }

    def start(self, index: int) -> None:
        self.processes[index] = subprocess.Popen(  # noqa: S603 - our own command
            self.argv(), env=self.env(), pass_fds=(self.sock.fileno(),)
        )
        self.started[index] = time.monotonic()

    def run(self) -> None:
        """Start everything, keep the workers running, and stop on SIGINT or SIGTERM."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        self.projector.start()
        for index in range(self.count):
            self.start(index)
        logger.info("serving with %d worker processes", self.count)
        try:
            while not self.stopping:
                self._restart_exited()
                time.sleep(0.2)
        finally:
            self.stop()

    def _restart_exited(self) -> None:
        for index, process in enumerate(self.processes):
            if self.stopping or process is None or process.poll() is None:
                continue
            if time.monotonic() - self.started[index] < RESTART_BACKOFF_SECONDS:
                continue
            logger.warning("worker %d exited with %s; starting another", process.pid,
                           process.returncode)  # fmt: skip
            self.start(index)

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def stop(self) -> None:
        self.stopping = True
        running = [p for p in self.processes if p is not None and p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("worker %d did not stop; killing it", process.pid)
                process.kill()
                process.wait()
        self.projector.stop()
        self.sock.close()
