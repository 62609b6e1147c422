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
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Final

from frontline.projecting import ProjectorProcess, child_env

logger = logging.getLogger(__name__)

#: A worker (or the projector) that lived less than this failed at its start: the next
#: start waits twice as long as the last (from 1 s, at most a minute), and after
#: MAX_FAILED_STARTS such failures in a row `serve` gives up (a database that is down, a
#: setting that is wrong) instead of restarting forever.
SHORT_LIFE_SECONDS: Final = 10.0
MAX_FAILED_STARTS: Final = 8
PROJECTOR: Final = "projector"
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

    def __init__(
        self, dsn: str, sock: socket.socket, count: int, *, verbose: bool, projector: bool
    ) -> None:
        self.dsn = dsn
        self.sock = sock
        self.count = count
        self.verbose = verbose
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        # By slot (a worker's index, or PROJECTOR): when it last started, its failed starts
        # in a row, and when it is due to start again once it has exited.
        self.started: dict[int | str, float] = {}
        self.failures: dict[int | str, int] = {}
        self.due: dict[int | str, float] = {}
        # FRONTLINE_RUN_PROJECTOR=false: API processes only (another process projects).
        self.projector = ProjectorProcess(dsn) if projector else None
        self.stopping = False
        self.failed = False  # gave up on a process that kept failing at its start

    def argv(self) -> Sequence[str]:
        return [
            sys.executable, "-m", "frontline", *(["-v"] if self.verbose else []),
            "serve", "--fd", str(self.sock.fileno()),
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        # The parent prepared the database and runs the one projector.
        return child_env(self.dsn, FRONTLINE_RUN_PROJECTOR="false", FRONTLINE_LOAD_SAMPLE="false")

    def start(self, index: int) -> None:
        self.processes[index] = subprocess.Popen(  # noqa: S603 - our own command
            self.argv(), env=self.env(), pass_fds=(self.sock.fileno(),)
        )
        self.started[index] = time.monotonic()

    def run(self) -> None:
        """Start everything, keep the workers running, and stop on SIGINT or SIGTERM."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        self._start_projector()
        for index in range(self.count):
            self.start(index)
        logger.info("serving with %d worker processes", self.count)
        try:
            while not self.stopping:
                self._restart_exited()
                time.sleep(0.2)
        finally:
            self.stop()

    def _start_projector(self) -> None:
        if self.projector is not None:
            self.projector.start()
            self.started[PROJECTOR] = time.monotonic()

    def _restart_exited(self) -> None:
        for index, process in enumerate(self.processes):
            if process is not None and process.poll() is not None:
                self._again(index, f"worker {process.pid}", process.returncode)
        child = self.projector.process if self.projector is not None else None
        if child is not None and child.poll() is not None:
            self._again(PROJECTOR, "the projector", child.returncode)

    def _again(self, slot: int | str, what: str, code: int | None) -> None:
        """Start the exited process of ``slot`` again: at once after a long life, after a
        doubling wait after a short one; give up (and stop serving) after too many."""
        if self.stopping:
            return
        now = time.monotonic()
        if slot not in self.due:  # just noticed
            self.failures[slot] = _failures(self.started[slot], self.failures.get(slot, 0))
            if self.failures[slot] >= MAX_FAILED_STARTS:
                logger.error("%s failed %d times in a row at its start; stopping", what,
                             self.failures[slot])  # fmt: skip
                self.stopping = self.failed = True
                return
            wait = 0.0 if self.failures[slot] == 0 else min(60.0, 2.0 ** (self.failures[slot] - 1))
            self.due[slot] = now + wait
            logger.warning("%s exited with %s; starting another in %.0f s", what, code, wait)
        if now >= self.due[slot]:
            del self.due[slot]
            if slot == PROJECTOR:
                self._start_projector()
            else:
                self.start(int(slot))

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
        if self.projector is not None:
            self.projector.stop()
        self.sock.close()


def _failures(started: float, so_far: int) -> int:
    """Failed starts in a row, now that a process started at ``started`` has exited."""
    return so_far + 1 if time.monotonic() - started < SHORT_LIFE_SECONDS else 0
