"""Backup and restore: `frontline export` then `frontline import` into an empty database gives
the same log (positions, record times, bytes) and the same answer to every asOf/knownAt query."""

from __future__ import annotations

import asyncio
import fcntl
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from domain import commands as c
from domain.application import Frontline
from domain.details import Assessment, Capture, Withdrawal
from domain.identity import actor_id, place_id
from domain.values import Source, ValidTime
from domain.vocabulary import ActorKind
from frontline.backup import BackupError, export_log, import_log
from frontline.database import eventsourcing_env
from frontline.migrate import migrate
from frontline.sample import load_sample
from readmodel.projector import catch_up
from tests.support.cli import run_frontline
from tests.support.databases import temporary_database
from tests.support.in_process import read

pytestmark = pytest.mark.slow

SOURCE = Source(outlet="Backup Wire")
PLACES = ("hama", "erze", "kafrtun", "hama-military-airport", "aleppo", "homs")
AS_OF = [datetime(2024, 11, 26, tzinfo=UTC) + timedelta(days=d, hours=12) for d in range(0, 13, 2)]
LOG = "SELECT * FROM public.frontline_events ORDER BY notification_id"


@pytest.fixture
def restore_dsn(postgres_dsn: str) -> Iterator[str]:
    """A second brand-new database (no migrations: `frontline import` applies them)."""
    with temporary_database(postgres_dsn, prefix="test_restore") as dsn:
        yield dsn


def record_sample_and_corrections(dsn: str) -> None:
    """The sample, then a late report, a dispute, an amendment and a retraction: several
    beliefs that only knownAt tells apart."""
    app = Frontline(env=eventsourcing_env(dsn))
    try:
        load_sample(app)

        def capture(by: str, taken_from: str, place: str, day: int) -> Any:
            return app.execute(
                c.RecordIncident(
                    details=Capture(by=(actor_id(by),), taken_from=actor_id(taken_from)),
                    valid_time=ValidTime(datetime(2024, 12, day, 9, tzinfo=UTC), "day"),
                    places=(place_id(place),),
                    sources=(SOURCE,),
                )
            )

        recapture = capture("syrian-arab-army", "hts", "erze", 6)
        capture("hts", "syrian-arab-army", "hama-military-airport", 3)  # a late report
        app.execute(c.Dispute(recapture.id, SOURCE, actor_id("hts"), "HTS denies it"))
        wrong = capture("syrian-arab-army", "hts", "kafrtun", 7)
        app.execute(c.Amend(wrong.id, "it was Yadgun", places=(place_id("yadgun"),)))
        app.execute(c.Retract(wrong.id, "old footage"))
        app.execute(
            c.RecordIncident(
                details=Withdrawal(actor=actor_id("hts"), redeployment=True),
                valid_time=ValidTime(datetime(2024, 12, 8, tzinfo=UTC), "day"),
                places=(place_id("erze"),),
                sources=(SOURCE,),
            )
        )

        # Assessments: a baseline, a contest between parties, one retracted.
        def assess(status: str, holders: tuple[str, ...], place: str, day: int) -> Any:
            return app.execute(
                c.RecordIncident(
                    details=Assessment(status, tuple(actor_id(h) for h in holders)),  # type: ignore[arg-type]
                    valid_time=ValidTime(datetime(2024, 11, day, tzinfo=UTC), "day"),
                    places=(place_id(place),),
                    sources=(SOURCE,),
                )
            )

        assess("held", ("syrian-arab-army",), "homs", 26)
        assess("contested", ("syrian-arab-army", "hts"), "kafrtun", 30)
        wrong = assess("held", ("hts",), "aleppo", 28)
        app.execute(c.Retract(wrong.id, "another map's date"))
    finally:
        app.close()


def frontline(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_frontline(*args, DATABASE_URL=dsn)


async def answers(dsn: str, known_at: list[datetime | None]) -> list[Any]:
    """Every control question over places × asOf × knownAt, the histories, the maps and the
    whole feed, asked through the GraphQL schema."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)

    async def ask(query: str, **variables: Any) -> Any:
        return await read(pool, query, **variables)

    state = "status validFrom validTo knownFromPosition knownToPosition disputed inferred "
    state += "assessed abandoned "
    state += "precision certainFrom controllers { slug } evidence { id kind status }"
    found: list[Any] = []
    try:
        for k in known_at:
            k_iso = None if k is None else k.isoformat()
            for place in PLACES:
                found.append(
                    await ask(
                        f"query ($p: String!, $k: DateTime) {{ controlHistory(place: $p, "
                        f"knownAt: $k) {{ {state} }} }}",
                        p=place,
                        k=k_iso,
                    )
                )
                for t in AS_OF:
                    found.append(
                        await ask(
                            f"query ($p: String!, $t: DateTime, $k: DateTime) {{ controlAt("
                            f"place: $p, asOf: $t, knownAt: $k) {{ {state} }} }}",
                            p=place,
                            t=t.isoformat(),
                            k=k_iso,
                        )
                    )
            for t in AS_OF:
                found.append(
                    await ask(
                        "query ($t: DateTime, $k: DateTime) { controlMap(first: 100, asOf: $t, "
                        f"knownAt: $k) {{ nodes {{ place {{ slug }} state {{ {state} }} }} }} }}",
                        t=t.isoformat(),
                        k=k_iso,
                    )
                )
        found.append(
            await ask(
                "{ incidents(first: 100, logOrder: true, filter: {kinds: [CAPTURE, WITHDRAWAL, "
                "AIRCRAFT_LOSS, CLASH, ADVANCE, AIR_STRIKE, STATEMENT, ANTICIPATED_OPERATION, "
                "ASSESSMENT]}) { nodes { id kind status occurredAt "
                "occurredUntil precision summary recordedAt recordedBy "
                "sources { outlet quote } } pageInfo { hasNextPage } } }"
            )
        )
        found.append(await ask("{ log(first: 100) { nodes { position recordedAt type data } } }"))
    finally:
        await pool.close()
    return found


async def test_export_then_import_into_an_empty_database_answers_every_query_identically(
    database_dsn: str, restore_dsn: str, tmp_path: Path
) -> None:
    record_sample_and_corrections(database_dsn)
    source = await asyncpg.connect(database_dsn)
    try:
        await catch_up(source)
        original_log = [dict(r) for r in await source.fetch(LOG)]
    finally:
        await source.close()
    assert len(original_log) > 32  # the sample, and the corrections after it

    backup = tmp_path / "log.ndjson"
    exported = frontline(database_dsn, "export", "--output", str(backup))
    assert exported.returncode == 0, exported.stderr
    assert "exporting" in exported.stderr  # the progress bar, on stderr
    lines = backup.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["position"] for line in lines] == list(range(1, len(lines) + 1))
    assert len(lines) == len(original_log)

    imported = frontline(restore_dsn, "import", str(backup))
    assert imported.returncode == 0, imported.stderr
    assert "importing" in imported.stderr
    assert "rebuilding" in imported.stderr

    restored = await asyncpg.connect(restore_dsn)
    try:
        restored_log = [dict(r) for r in await restored.fetch(LOG)]
    finally:
        await restored.close()
    # Byte for byte: positions, record times, ids, versions, topics, states.
    assert restored_log == original_log

    # knownAt just before and at several record times: each belief the log ever held.
    recorded = [row["recorded_at"] for row in original_log]
    known_at: list[datetime | None] = [None, recorded[0] - timedelta(seconds=1)]
    known_at += recorded[-9:]  # the end of the sample, then after each correction
    before, after = await answers(database_dsn, known_at), await answers(restore_dsn, known_at)
    assert after == before
    # The knownAt values do tell beliefs apart, so the comparison above has teeth.
    assert len({json.dumps(a, sort_keys=True) for a in before}) > len(PLACES) * len(AS_OF)


def test_export_writes_ndjson_to_stdout_and_progress_to_stderr(database_dsn: str) -> None:
    record_sample_and_corrections(database_dsn)
    exported = frontline(database_dsn, "export")
    assert exported.returncode == 0, exported.stderr
    events = [json.loads(line) for line in exported.stdout.splitlines()]
    assert events[0]["position"] == 1
    assert {"position", "recorded_at", "originator_id", "originator_version", "topic"} <= set(
        events[0]
    )
    assert datetime.fromisoformat(events[0]["recorded_at"]).tzinfo is not None
    assert "exported" in exported.stderr


def test_import_refuses_a_database_whose_log_is_not_empty(
    database_dsn: str, tmp_path: Path
) -> None:
    record_sample_and_corrections(database_dsn)
    backup = tmp_path / "log.ndjson"
    assert frontline(database_dsn, "export", "-o", str(backup)).returncode == 0
    before = asyncio.run(_log(database_dsn))
    refused = frontline(database_dsn, "import", str(backup))
    assert refused.returncode != 0
    assert "not empty" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert asyncio.run(_log(database_dsn)) == before


async def _log(dsn: str) -> list[dict[str, Any]]:
    """The log's rows; none in a database no migration ran in (a restore's target)."""
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT to_regclass('public.frontline_events') IS NOT NULL"):
            return []
        return [dict(r) for r in await conn.fetch(LOG)]
    finally:
        await conn.close()


async def test_a_backup_with_a_gap_imports_nothing(
    database_dsn: str, restore_dsn: str, tmp_path: Path
) -> None:
    record_sample_and_corrections(database_dsn)
    source = await asyncpg.connect(database_dsn)
    backup = tmp_path / "log.ndjson"
    try:
        with backup.open("w", encoding="utf-8") as out:
            await export_log(source, out)
    finally:
        await source.close()
    lines = backup.read_bytes().splitlines(keepends=True)
    del lines[1500 if len(lines) > 1500 else 20]  # one event lost in transit

    await migrate(restore_dsn)
    target = await asyncpg.connect(restore_dsn)
    try:
        with pytest.raises(BackupError, match="gap"):
            await import_log(target, lines)
        assert await target.fetchval("SELECT count(*) FROM frontline_events") == 0
    finally:
        await target.close()


async def test_an_import_session_cannot_record_back_in_time(db_pool: Any) -> None:
    """The trigger keeps record time monotonic even for imports; other sessions never get to
    choose their record time."""
    insert = (
        "INSERT INTO frontline_events (originator_id, originator_version, topic, state, "
        "recorded_at) VALUES ($1, 1, 't', '{}', $2) RETURNING recorded_at"
    )
    async with db_pool.acquire() as conn:
        past = datetime(2020, 1, 1, tzinfo=UTC)
        # Not importing: the database's clock wins.
        assert await conn.fetchval(insert, uuid4(), past) > past
        async with conn.transaction():
            await conn.execute("SELECT set_config('frontline.import', 'on', true)")
            with pytest.raises(asyncpg.PostgresError, match="out of order") as refused:
                await conn.fetchval(insert, uuid4(), past)
        assert refused.value.sqlstate == "FL002"
        async with conn.transaction():
            await conn.execute("SELECT set_config('frontline.import', 'on', true)")
            future = datetime.now(UTC) + timedelta(days=1)
            with pytest.raises(asyncpg.PostgresError, match="out of order"):
                await conn.fetchval(insert, uuid4(), future)
        # The setting was transaction-local: back to the clock.
        assert await conn.fetchval(insert, uuid4(), past) > past
        assert await conn.fetchval("SELECT max(notification_id) FROM frontline_events") == 2


# -- continuous backup: increments -------------------------------------------------------------


def register_actors(dsn: str, *slugs: str) -> None:
    """New events at the end of the log: what a day of work appends."""
    app = Frontline(env=eventsourcing_env(dsn))
    try:
        app.execute_batch([c.RegisterActor(s, s.title(), ActorKind.ARMED_GROUP) for s in slugs])
    finally:
        app.close()


def positions(path: Path) -> list[int]:
    return [json.loads(line)["position"] for line in path.read_text(encoding="utf-8").splitlines()]


def base_and_increment(dsn: str, tmp_path: Path, *slugs: str) -> tuple[Path, Path, int]:
    """A full export, then ``slugs`` registered, then an export of what came after it: the
    two files and the base's last position."""
    record_sample_and_corrections(dsn)
    base, increment = tmp_path / "base.ndjson", tmp_path / "increment.ndjson"
    assert frontline(dsn, "export", "-o", str(base)).returncode == 0
    head = positions(base)[-1]
    register_actors(dsn, *slugs)
    exported = frontline(dsn, "export", "--after", str(head), "-o", str(increment))
    assert exported.returncode == 0, exported.stderr
    return base, increment, head


async def test_an_increment_holds_only_what_is_new_and_restores_with_its_base(
    database_dsn: str, restore_dsn: str, tmp_path: Path
) -> None:
    base, increment, head = base_and_increment(
        database_dsn, tmp_path, "increment-one", "increment-two"
    )
    assert positions(increment) == [head + 1, head + 2]

    imported = frontline(restore_dsn, "import", str(base), str(increment))
    assert imported.returncode == 0, imported.stderr
    assert await _log(restore_dsn) == await _log(database_dsn)


async def test_an_increment_without_its_base_or_out_of_order_imports_nothing(
    database_dsn: str, restore_dsn: str, tmp_path: Path
) -> None:
    base, increment, _ = base_and_increment(database_dsn, tmp_path, "increment-three")

    for files in ([increment], [increment, base]):
        refused = frontline(restore_dsn, "import", *map(str, files))
        assert refused.returncode != 0
        assert "gap or is out of order" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert await _log(restore_dsn) == []


async def test_append_keeps_a_copy_equal_to_a_full_export(
    database_dsn: str, tmp_path: Path
) -> None:
    record_sample_and_corrections(database_dsn)
    copy, full = tmp_path / "copy.ndjson", tmp_path / "full.ndjson"
    first = frontline(database_dsn, "export", "--append", "-o", str(copy))
    assert first.returncode == 0, first.stderr
    register_actors(database_dsn, "appended-one")
    again = frontline(database_dsn, "export", "--append", "-o", str(copy))
    assert again.returncode == 0, again.stderr
    assert "appended 1 events" in again.stderr
    nothing_new = frontline(database_dsn, "export", "--append", "-o", str(copy))
    assert "appended 0 events" in nothing_new.stderr

    assert frontline(database_dsn, "export", "-o", str(full)).returncode == 0
    assert copy.read_bytes() == full.read_bytes()


async def test_append_writes_again_a_last_line_a_killed_run_cut_short(
    database_dsn: str, tmp_path: Path
) -> None:
    record_sample_and_corrections(database_dsn)
    copy, full = tmp_path / "copy.ndjson", tmp_path / "full.ndjson"
    assert frontline(database_dsn, "export", "-o", str(full)).returncode == 0
    whole = full.read_bytes()
    copy.write_bytes(whole[: len(whole) - 40])  # the last line cut in the middle
    repaired = frontline(database_dsn, "export", "--append", "-o", str(copy))
    assert repaired.returncode == 0, repaired.stderr
    assert "appended 1 events" in repaired.stderr
    assert copy.read_bytes() == whole


@pytest.mark.parametrize(
    "change",
    [
        {"position": 10_000},  # ends past this log's last position
        {"originator_version": 99},  # ends within it, with an event this log does not hold
    ],
)
def test_append_refuses_a_copy_of_another_log(
    database_dsn: str, tmp_path: Path, change: dict[str, int]
) -> None:
    record_sample_and_corrections(database_dsn)
    copy = tmp_path / "copy.ndjson"
    assert frontline(database_dsn, "export", "-o", str(copy)).returncode == 0
    lines = copy.read_text(encoding="utf-8").splitlines()
    lines[-1] = json.dumps(json.loads(lines[-1]) | change)
    copy.write_text("\n".join(lines) + "\n")
    before = copy.read_bytes()
    refused = frontline(database_dsn, "export", "--append", "-o", str(copy))
    assert refused.returncode == 1
    assert "it is a copy of another log" in refused.stderr
    assert copy.read_bytes() == before


def test_append_refuses_a_file_that_is_not_an_export(database_dsn: str, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"an analyst's notes, no newline at the end")
    refused = frontline(database_dsn, "export", "--append", "-o", str(notes))
    assert refused.returncode == 1
    assert "not an export" in refused.stderr
    assert notes.read_bytes() == b"an analyst's notes, no newline at the end"


def test_a_second_appender_is_refused_while_one_holds_the_file(
    database_dsn: str, tmp_path: Path
) -> None:
    record_sample_and_corrections(database_dsn)
    copy = tmp_path / "copy.ndjson"
    with copy.open("ab") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a running `export --append` holds
        refused = frontline(database_dsn, "export", "--append", "-o", str(copy))
    assert refused.returncode == 1
    assert "another export is appending" in refused.stderr
    assert copy.read_bytes() == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--append"], "--append needs --output"),
        (["--append", "-o", "x.ndjson", "--after", "3"], "without --after"),
        (["--format", "acled-csv", "--after", "3"], "go with --format ndjson"),
        (["--after", "-1"], "-1 is not in the range"),
    ],
)
def test_export_options_that_do_not_go_together_are_refused(
    database_dsn: str, args: list[str], message: str
) -> None:
    refused = frontline(database_dsn, "export", *args)
    assert refused.returncode == 2
    assert message in refused.stderr
