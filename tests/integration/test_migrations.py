"""The migration runner against a real, empty PostgreSQL database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from domain.application import Frontline
from frontline.database import eventsourcing_env
from frontline.migrate import MigrationError, load_migrations, migrate
from frontline.sample import load_sample
from readmodel import apply
from readmodel.projector import catch_up
from readmodel.rebuild import rebuild


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, sql in files.items():
        (directory / name).write_text(sql, encoding="utf-8")
    return directory


async def fetch(dsn: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


async def test_bundled_migrations_ship_as_package_data_in_order() -> None:
    names = [m.filename for m in load_migrations()]

    assert names[:2] == ["0001_event_store.sql", "0002_append_only.sql"]
    assert names == sorted(names)


async def test_migrations_apply_in_version_order_and_are_recorded(
    blank_database_dsn: str, tmp_path: Path
) -> None:
    # 0002 needs 0001's table, and 0010 needs 0002's row: order by version, not by name length
    # or by the order files were written.
    write(tmp_path, {"0010_third.sql": "UPDATE t SET n = n * 10;"})
    write(tmp_path, {"0002_second.sql": "INSERT INTO t VALUES (1);"})
    write(tmp_path, {"0001_first.sql": "CREATE TABLE t (n int);"})
    write(tmp_path, {"README.md": "not a migration", "0003-bad-name.sql": "SELECT 1/0;"})

    applied = await migrate(blank_database_dsn, load_migrations(tmp_path))

    assert [m.filename for m in applied] == ["0001_first.sql", "0002_second.sql", "0010_third.sql"]
    assert [r["n"] for r in await fetch(blank_database_dsn, "SELECT n FROM t")] == [10]
    rows = await fetch(blank_database_dsn, "SELECT * FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == [(1, "first"), (2, "second"), (10, "third")]
    assert [r["sha256"] for r in rows] == [m.sha256 for m in applied]
    assert all(r["applied_at"] is not None for r in rows)


async def test_migrating_twice_is_a_no_op(blank_database_dsn: str) -> None:
    first = await migrate(blank_database_dsn)
    before = await fetch(blank_database_dsn, "SELECT * FROM schema_migrations ORDER BY version")

    second = await migrate(blank_database_dsn)

    assert [m.filename for m in first][:2] == ["0001_event_store.sql", "0002_append_only.sql"]
    assert second == []
    after = await fetch(blank_database_dsn, "SELECT * FROM schema_migrations ORDER BY version")
    assert after == before


async def test_changed_migration_is_refused_naming_the_file_and_nothing_runs(
    blank_database_dsn: str, tmp_path: Path
) -> None:
    write(tmp_path, {"0001_things.sql": "CREATE TABLE things (id int);"})
    await migrate(blank_database_dsn, load_migrations(tmp_path))
    write(
        tmp_path,
        {
            "0001_things.sql": "CREATE TABLE things (id bigint);",
            "0002_more.sql": "CREATE TABLE more (id int);",
        },
    )

    with pytest.raises(MigrationError, match=r"0001_things\.sql was changed after it was applied"):
        await migrate(blank_database_dsn, load_migrations(tmp_path))

    tables = await fetch(blank_database_dsn, "SELECT to_regclass('more') AS t")
    assert tables[0]["t"] is None


async def test_new_migration_numbered_before_an_applied_one_is_refused(
    blank_database_dsn: str, tmp_path: Path
) -> None:
    write(tmp_path, {"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 3;"})
    await migrate(blank_database_dsn, load_migrations(tmp_path))
    write(tmp_path, {"0002_b.sql": "SELECT 2;"})

    with pytest.raises(MigrationError, match=r"0002_b\.sql is new but sorts before 0003_c\.sql"):
        await migrate(blank_database_dsn, load_migrations(tmp_path))


async def test_database_newer_than_the_code_is_refused(
    blank_database_dsn: str, tmp_path: Path
) -> None:
    write(tmp_path, {"0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;"})
    await migrate(blank_database_dsn, load_migrations(tmp_path))
    (tmp_path / "0002_b.sql").unlink()

    with pytest.raises(MigrationError, match=r"doesn't know \(0002_b\.sql\)"):
        await migrate(blank_database_dsn, load_migrations(tmp_path))


async def test_failing_migration_rolls_back_alone_and_is_not_recorded(
    blank_database_dsn: str, tmp_path: Path
) -> None:
    write(
        tmp_path,
        {
            "0001_ok.sql": "CREATE TABLE ok (id int);",
            "0002_broken.sql": "CREATE TABLE half (id int); SELECT no_such_function();",
        },
    )

    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate(blank_database_dsn, load_migrations(tmp_path))

    rows = await fetch(blank_database_dsn, "SELECT name FROM schema_migrations")
    assert [r["name"] for r in rows] == ["ok"]
    exists = await fetch(blank_database_dsn, "SELECT to_regclass('half') AS t")
    assert exists[0]["t"] is None


async def test_concurrent_migrators_apply_each_migration_exactly_once(
    blank_database_dsn: str,
) -> None:
    results = await asyncio.gather(*(migrate(blank_database_dsn) for _ in range(4)))

    applied = [m.filename for result in results for m in result]
    assert sorted(applied) == [m.filename for m in load_migrations()]


def test_two_migrations_with_one_version_are_refused(tmp_path: Path) -> None:
    write(tmp_path, {"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"})

    with pytest.raises(MigrationError, match="two migrations share version 0001"):
        load_migrations(tmp_path)


# What the projector wrote into rm.actors before 0011 (readmodel/apply.py of that release),
# taking (and ignoring) the colour today's code passes as $9.
UPSERT_ACTOR_BEFORE_0011 = """
INSERT INTO {s}.actors AS a (id, slug, name, kind, side, aliases, coalition_ids, position)
SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE $9::text IS NULL OR true
ON CONFLICT (id) DO UPDATE SET aliases = excluded.aliases, coalition_ids = excluded.coalition_ids
"""


async def test_actor_colours_migrate_a_projected_database_as_a_rebuild_would(
    blank_database_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0011 ranks the actors already projected by registration order (by a projector of the
    release before it), and gives new ones the next rank whoever inserts them: the same
    ranks a rebuild gives."""
    bundled = load_migrations()
    before = [m for m in bundled if m.version < 11]
    await migrate(blank_database_dsn, before)
    app = Frontline(env=eventsourcing_env(blank_database_dsn))
    try:
        await asyncio.to_thread(load_sample, app)
    finally:
        app.close()
    conn = await asyncpg.connect(blank_database_dsn)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(apply, "UPSERT_ACTOR", UPSERT_ACTOR_BEFORE_0011)
            await catch_up(conn)
        await migrate(blank_database_dsn, bundled)
        ranks = "SELECT slug, color_rank FROM rm.actors ORDER BY color_rank"
        migrated = [tuple(r) for r in await conn.fetch(ranks)]
        # An insert that names no rank (as a projector of an earlier release writes) gets one.
        await conn.execute(
            "INSERT INTO rm.actors (id, slug, name, kind, side, aliases, coalition_ids, position)"
            " VALUES (gen_random_uuid(), 'old-writer', 'Old Writer', 'other', NULL, '{}', '{}',"
            " 999999)"
        )
        assert await conn.fetchval(
            "SELECT color_rank FROM rm.actors WHERE slug = 'old-writer'"
        ) == len(migrated)
        await rebuild(conn)
        rebuilt = [tuple(r) for r in await conn.fetch(ranks)]
    finally:
        await conn.close()
    positions = [r[1] for r in migrated]
    assert positions == list(range(len(migrated)))
    assert rebuilt == migrated  # the inserted row was never in the log: a rebuild drops it
