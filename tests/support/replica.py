"""A PostgreSQL primary and a real streaming replica of it, made with the embedded PostgreSQL's
own binaries: the primary is an embedded server in a temporary directory, the replica a
`pg_basebackup -R` of it started on a socket of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from frontline.embedded import (
    _binaries,
    cluster_version,
    embedded_pgdata,
    start_embedded_server,
    stop_embedded_server,
)


@dataclass(frozen=True)
class Pair:
    primary: str  # the primary's server DSN (its maintenance database)
    replica_dir: Path  # the replica's data directory, its socket beside it
    bin: Path
    owner: str | None  # the user PostgreSQL runs as when we are root

    def replica_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:@/{database}?host={self.replica_dir}"

    def run(self, name: str, *args: str) -> None:
        as_owner = ["runuser", "-u", self.owner, "--"] if self.owner else []
        subprocess.run([*as_owner, str(self.bin / name), *args], check=True, capture_output=True)

    def start_replica(self) -> None:
        options = f"-k {self.replica_dir} -c listen_addresses='' -c hot_standby=on"
        log = str(self.replica_dir.parent / "replica.log")
        self.run("pg_ctl", "-D", str(self.replica_dir), "-w", "-l", log, "-o", options, "start")

    def stop_replica(self) -> None:
        self.run("pg_ctl", "-D", str(self.replica_dir), "-m", "immediate", "-w", "stop")


@contextmanager
def primary_and_replica() -> Iterator[Pair]:
    data = Path(tempfile.mkdtemp(prefix="frontline-primary-"))
    scratch = Path(tempfile.mkdtemp(prefix="frontline-replica-"))
    try:
        primary = start_embedded_server(data)
        pgdata = embedded_pgdata(data)
        version = cluster_version(pgdata)
        assert version is not None
        owner = pgdata.owner() if os.geteuid() == 0 else None
        if owner:
            shutil.chown(scratch, owner)
        pair = Pair(primary, scratch / "pg", _binaries()[version], owner)
        source = f"host={pgdata} user=postgres"
        pair.run("pg_basebackup", "-D", str(pair.replica_dir), "-R", "-X", "stream", "-d", source)
        # The embedded server keeps its socket in its data directory, so the copy holds the
        # socket's lock file too: the replica would take it for a postmaster already running.
        for leftover in pair.replica_dir.glob(".s.PGSQL.*"):
            leftover.unlink()
        pair.start_replica()
        try:
            yield pair
        finally:
            subprocess.run(
                [*(["runuser", "-u", owner, "--"] if owner else []), str(pair.bin / "pg_ctl"),
                 "-D", str(pair.replica_dir), "-m", "immediate", "stop"],
                capture_output=True, check=False,
            )  # fmt: skip
    finally:
        stop_embedded_server(data)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
