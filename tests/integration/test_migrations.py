"""The migration runner against a real, empty PostgreSQL database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from frontline.migrate import MigrationError, load_migrations, migrate


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
