"""Settings from the environment, and one DSN mapped to both database clients.

The mapping tests need no database; the last ones connect for real.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from frontline.config import Settings, load_settings
from frontline.database import (
    DatabaseConfigError,
    dsn_with_database,
    eventsourcing_env,
    resolve_dsn,
)
from frontline.embedded import EmbeddedServerError, start_embedded_server
from tests.support.cli import run_frontline


def test_settings_default_to_an_embedded_database_on_localhost() -> None:
    assert load_settings({}) == Settings(
        database_url=None,
        data_dir=Path(".frontline"),
        host="127.0.0.1",
        port=8000,
        load_sample=True,
    )


def test_settings_are_cast_from_the_environment() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://u:p@db:5433/fl",
            "FRONTLINE_DATA_DIR": "/var/lib/frontline",
            "FRONTLINE_HOST": "0.0.0.0",  # noqa: S104
            "FRONTLINE_PORT": "9000",
            "FRONTLINE_LOAD_SAMPLE": "false",
        }
    )

    assert settings.database_url == "postgresql://u:p@db:5433/fl"
    assert settings.data_dir == Path("/var/lib/frontline")
    assert (settings.host, settings.port, settings.load_sample) == ("0.0.0.0", 9000, False)  # noqa: S104


def test_empty_database_url_means_embedded() -> None:
    assert load_settings({"DATABASE_URL": ""}).database_url is None


def test_tcp_uri_maps_to_eventsourcing_settings() -> None:
    env = eventsourcing_env("postgresql://frontline:s%3Acret@db.internal:6543/conflicts")

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_HOST"] == "db.internal"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_USER"] == "frontline"
    assert env["POSTGRES_PASSWORD"] == "s:cret"  # noqa: S105
    assert env["POSTGRES_DBNAME"] == "conflicts"
    assert env["CREATE_TABLE"] == "n"
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "y"


def test_unix_socket_uri_maps_to_a_socket_directory_host() -> None:
    env = eventsourcing_env("postgresql://postgres:@/postgres?host=/srv/frontline/pg")

    assert env["POSTGRES_HOST"] == "/srv/frontline/pg"
    assert env["POSTGRES_PORT"] == "5432"
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("postgres", "")
    assert env["POSTGRES_DBNAME"] == "postgres"


def test_missing_parts_get_libpq_defaults() -> None:
    env = eventsourcing_env("postgresql://alice@db")

    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db", "5432")
    assert env["POSTGRES_DBNAME"] == "alice"


def test_invalid_dsn_is_refused_without_echoing_it() -> None:
    with pytest.raises(DatabaseConfigError) as error:
        eventsourcing_env("postgresql://u:hunter2@db:notaport/x?bogus=1")

    assert "hunter2" not in str(error.value)


def test_database_url_must_be_a_uri() -> None:
    with pytest.raises(DatabaseConfigError, match="postgresql:// URI"):
        resolve_dsn(Settings(database_url="host=db dbname=x"))


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://u:p@db:5433/postgres", "postgresql://u:p@db:5433/other"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/x/pg",
            "postgresql://postgres:@/other?host=/tmp/x/pg",
        ),
    ],
)
def test_dsn_with_database_keeps_server_and_credentials(dsn: str, expected: str) -> None:
    assert dsn_with_database(dsn, "other") == expected


def test_embedded_data_dir_too_deep_for_a_unix_socket_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)

    with pytest.raises(EmbeddedServerError, match="FRONTLINE_DATA_DIR is too deep"):
        start_embedded_server(deep)

    assert not deep.exists()


async def test_asyncpg_and_eventsourcing_settings_reach_the_same_database(
    database_dsn: str,
) -> None:
    env = eventsourcing_env(database_dsn)
    connection = await asyncpg.connect(database_dsn)
    try:
        name = await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()

    assert name == env["POSTGRES_DBNAME"]
    assert name.startswith("test_")


@pytest.mark.parametrize("args", [("migrate",), ("keys", "list"), ("load-sample",)], ids=" ".join)
def test_a_database_that_cannot_be_reached_is_one_clean_line(args: tuple[str, ...]) -> None:
    done = run_frontline(
        *args, timeout=60, DATABASE_URL="postgresql://someone:s3cret@127.0.0.1:1/nowhere"
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: cannot use PostgreSQL")
    assert "s3cret" not in done.stderr
