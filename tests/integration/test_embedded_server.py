"""The embedded PostgreSQL across versions and kills, driven through the `frontline` CLI.

Each test has data directories of its own (short paths: the unix socket lives in them), and
runs the CLI in subprocesses, as a user would.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from frontline.embedded import (
    EMBEDDED_PGDATA,
    NEW_CLUSTER_VERSION,
    cluster_version,
    init_cluster,
    stop_embedded_server,
)
from tests.support.cli import run_frontline

pytestmark = pytest.mark.slow

LOG = (
    "SELECT notification_id, originator_id, originator_version, topic, state, recorded_at "
    "FROM public.frontline_events ORDER BY notification_id"
)


@pytest.fixture
def data_dirs() -> Iterator[list[Path]]:
    """Fresh, short data directories; every embedded server in them is stopped afterwards."""
    made: list[Path] = []

    def new() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="fl-emb-")))
        return made[-1]

    dirs = [new(), new()]
    try:
        yield dirs
    finally:
        for data_dir in made:
            for candidate in (data_dir, data_dir.with_name(data_dir.name + ".old")):
                if candidate.exists():
                    stop_embedded_server(candidate)
                    shutil.rmtree(candidate, ignore_errors=True)


def frontline(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_frontline(*args, timeout=timeout, FRONTLINE_DATA_DIR=str(data_dir))


def db_url(data_dir: Path) -> str:
    started = frontline(data_dir, "db-url")
    assert started.returncode == 0, started.stderr
    return started.stdout.strip()


async def fetch(dsn: str, query: str) -> list[Any]:
    connection = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


async def server_major_version(dsn: str) -> int:
    rows = await fetch(dsn, "SELECT current_setting('server_version_num')::int / 10000")
    return int(rows[0][0])


def test_a_postgresql_16_data_directory_keeps_working_and_moves_to_18_by_export_and_import(
    data_dirs: list[Path], tmp_path: Path
) -> None:
    old, new = data_dirs
    # What the earlier embedded package (pgserver 0.1.4, PostgreSQL 16.2) left behind: a
    # PostgreSQL 16 cluster, here made with the same major version's binaries.
    init_cluster(old / EMBEDDED_PGDATA, 16)

    loaded = frontline(old, "load-sample")
    assert loaded.returncode == 0, loaded.stderr
    assert "is version 16 (made by an earlier Frontline); it keeps working" in loaded.stderr
    assert "frontline export" in loaded.stderr
    assert "frontline import" in loaded.stderr
    old_dsn = db_url(old)
    assert asyncio.run(server_major_version(old_dsn)) == 16
    old_log = asyncio.run(fetch(old_dsn, LOG))
    assert len(old_log) == 32  # the sample

    # The upgrade path the message names: export, stop, move aside, import into a new one.
    backup = tmp_path / "frontline.ndjson"
    exported = frontline(old, "export", "-o", str(backup))
    assert exported.returncode == 0, exported.stderr
    stopped = frontline(old, "stop-db")
    assert stopped.stdout.strip() == "stopped", stopped.stderr
    old.rename(old.with_name(old.name + ".old"))

    imported = frontline(new, "import", str(backup))
    assert imported.returncode == 0, imported.stderr
    assert cluster_version(new / EMBEDDED_PGDATA) == NEW_CLUSTER_VERSION
    new_dsn = db_url(new)
    assert asyncio.run(server_major_version(new_dsn)) == NEW_CLUSTER_VERSION
    # Every position, stored byte and original record time came across.
    assert asyncio.run(fetch(new_dsn, LOG)) == old_log
    held = asyncio.run(
        fetch(new_dsn, "SELECT count(*) FROM rm.incidents WHERE status <> 'retracted'")
    )
    assert held[0][0] > 0  # and the read models were rebuilt from it


def test_a_data_directory_of_an_unknown_version_is_refused_with_the_upgrade_path(
    data_dirs: list[Path],
) -> None:
    data_dir = data_dirs[0]
    pgdata = data_dir / EMBEDDED_PGDATA
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15\n")

    refused = frontline(data_dir, "db-url")

    assert refused.returncode == 1
    assert refused.stdout == ""
    message = refused.stderr.strip()
    assert "\n" not in message, message  # one line, no traceback
    assert "holds a PostgreSQL 15 cluster" in message
    assert "frontline export -o frontline.ndjson" in message
    assert "frontline import frontline.ndjson" in message
    assert sorted(p.name for p in pgdata.iterdir()) == ["PG_VERSION"]  # nothing was started


def test_a_first_start_killed_during_initdb_starts_cleanly_next_time(
    data_dirs: list[Path],
) -> None:
    data_dir = data_dirs[0]
    scratch = data_dir / (EMBEDDED_PGDATA + ".initdb")
    first = subprocess.Popen(
        [sys.executable, "-m", "frontline", "db-url"],
        env={k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        | {"FRONTLINE_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # initdb runs in this process group: the kill takes it too
    )
    try:
        deadline = time.monotonic() + 60
        while not (scratch / "PG_VERSION").exists():  # initdb has begun writing the cluster
            assert first.poll() is None, "the first start ended before initdb began"
            assert time.monotonic() < deadline, "initdb never began"
            time.sleep(0.005)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    assert not (data_dir / EMBEDDED_PGDATA).exists()  # killed before the cluster was whole

    dsn = db_url(data_dir)

    assert asyncio.run(fetch(dsn, "SELECT 1")) == [(1,)]
    assert not scratch.exists()


def test_a_postgresql_killed_with_sigkill_recovers_its_data_on_the_next_start(
    data_dirs: list[Path],
) -> None:
    data_dir = data_dirs[0]
    dsn = db_url(data_dir)
    asyncio.run(fetch(dsn, "CREATE TABLE kept AS SELECT 42 AS answer"))
    pgdata = data_dir / EMBEDDED_PGDATA
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])

    os.kill(postmaster, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{postmaster}").exists():  # until it is gone, not merely dying
        assert time.monotonic() < deadline, "the killed postmaster was never reaped"
        time.sleep(0.05)

    assert db_url(data_dir) == dsn
    assert asyncio.run(fetch(dsn, "SELECT answer FROM kept")) == [(42,)]
