"""`frontline import-control`: a baseline of who held what from a file (CSV or GeoJSON), and
the seed article's offensive recorded on top of it out of order (issue 13's scenario)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api.colors import PALETTE
from domain.application import Frontline
from domain.commands import RecordIncident, RegisterActor, RegisterPlace
from frontline.database import eventsourcing_env
from frontline.sample import parse_sample, read_sample
from readmodel import queries as q
from readmodel.projector import catch_up
from tests.support.cli import run_frontline
from tests.support.databases import temporary_database

pytestmark = pytest.mark.slow

BASELINE = Path(__file__).resolve().parents[2] / "frontline" / "sample" / "baseline-2024-11-26.csv"
SYRIA = timezone(timedelta(hours=3))
SAA, HTS, MOC, ARF = (
    "syrian-arab-army",
    "hts",
    "military-operations-command",
    "anti-regime-factions",
)
LOG_HEAD = "SELECT coalesce(max(notification_id), 0) FROM public.frontline_events"


def sample_commands() -> tuple[list[Any], list[RecordIncident]]:
    commands = parse_sample(read_sample())
    registrations = [c for c in commands if isinstance(c, RegisterPlace | RegisterActor)]
    return registrations, [c for c in commands if isinstance(c, RecordIncident)]


def execute(dsn: str, commands: list[Any], *, one_by_one: bool = False) -> None:
    app = Frontline(env=eventsourcing_env(dsn))
    try:
        if one_by_one:
            for command in commands:
                app.execute(command)
        else:
            app.execute_batch(commands)
    finally:
        app.close()


def import_control(dsn: str, *args: str) -> Any:
    return run_frontline("import-control", *args, DATABASE_URL=dsn)


async def fetch(dsn: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        await catch_up(conn)
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def day_by_day(dsn: str, days: list[datetime]) -> dict[str, list[Any]]:
    """Each place's (status, holders, assessed) at noon (+03:00) of each day; None: unknown."""
    conn = await asyncpg.connect(dsn)
    try:
        await catch_up(conn)
        actors = {r["id"]: r["slug"] for r in await conn.fetch("SELECT id, slug FROM rm.actors")}
        table: dict[str, list[Any]] = {}
        for day in days:
            for entry in await q.control_map(conn, day):
                s = entry.state
                cell = None if s is None else (
                    s.status.value, frozenset(actors[a] for a in s.controllers), s.assessed
                )  # fmt: skip
                table.setdefault(entry.place.slug, []).append(cell)
        return table
    finally:
        await conn.close()


def noon(day: int, month: int = 12) -> datetime:
    return datetime(2024, month, day, 12, tzinfo=SYRIA)


def test_the_baseline_then_the_offensive_out_of_order_gives_the_expected_map_every_day(
    database_dsn: str,
) -> None:
    registrations, incidents = sample_commands()
    execute(database_dsn, registrations)
    imported = import_control(database_dsn, str(BASELINE), "--offset", "+03:00")
    assert imported.returncode == 0, imported.stderr
    assert "read 12 rows" in imported.stderr  # progress on stderr
    assert "registered 3 places and recorded 12 assessments" in imported.stderr
    execute(database_dsn, list(reversed(incidents)), one_by_one=True)  # late reports first

    days = [noon(25, 11), *(noon(d, 11) for d in range(26, 31)), *(noon(d) for d in range(1, 11))]
    table = asyncio.run(day_by_day(database_dsn, days))

    def held(by: set[str], from_day: int, before: tuple[str, ...] = (SAA,)) -> list[Any]:
        """None on 25 Nov, the baseline holder (assessed) until ``from_day`` of December,
        ``by`` (reported) from then on."""
        baseline = ("held", frozenset(before), True)
        after = ("held", frozenset(by), False)
        return [None, *[baseline] * 5, *[baseline if d < from_day else after for d in range(1, 11)]]

    kept = held(set(), 99)  # no capture: the baseline holds throughout
    assert table == {
        "al-wahshiyya": held({ARF}, 4),
        "aleppo": held({ARF}, 1),
        "damascus": kept,
        "erze": held({ARF}, 4),
        "halfaya": kept,
        "hama": held({HTS, MOC}, 5),
        "hama-governorate": [None] * len(days),  # no row in the baseline, no incident
        "hama-military-airport": kept,  # no capture reported: the army's, as assessed
        "homs": kept,
        "idlib": held(set(), 99, before=(HTS,)),
        "kafrtun": held({ARF}, 4),
        "taybat-al-imam": kept,
        "yadgun": held({ARF}, 4),
    }

    # Filling in the map is no hand-over and no change; the offensive's captures are.
    changes = asyncio.run(
        fetch(database_dsn, "SELECT DISTINCT p.slug FROM rm.control_changes AS c "
                            "JOIN rm.places AS p ON p.id = c.place_id ORDER BY 1")
    )  # fmt: skip
    assert [r["slug"] for r in changes] == [
        "al-wahshiyya", "aleppo", "erze", "hama", "kafrtun", "yadgun",
    ]  # fmt: skip

    async def changed(t1: datetime, t2: datetime) -> list[str]:
        conn = await asyncpg.connect(database_dsn)
        try:
            return [c.place.slug for c in await q.changes_between(conn, t1, t2)]
        finally:
            await conn.close()

    assert asyncio.run(changed(noon(25, 11), noon(30, 11))) == []
    assert sorted(asyncio.run(changed(noon(25, 11), noon(6)))) == [
        "al-wahshiyya", "aleppo", "erze", "hama", "kafrtun", "yadgun",
    ]  # fmt: skip


def test_bad_rows_are_reported_by_line_and_nothing_is_written(
    database_dsn: str, tmp_path: Path
) -> None:
    registrations, _ = sample_commands()
    execute(database_dsn, registrations)
    head = asyncio.run(fetch(database_dsn, LOG_HEAD))[0][0]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "place,holders,status,as_of,source\n"
        "hama,hts,held,2024-12-06,Wire\n"  # fine, but its neighbours are not
        "nowhere,hts,held,2024-12-06,Wire\n"
        "erze,nobody,held,2024-12-06,Wire\n"
        "kafrtun,hts,captured,2024-12-06,Wire\n"
        "yadgun,hts,contested,2024-12-06,Wire\n"
        "aleppo,hts,held,06/12/2024,Wire\n"
        "homs,hts,held,,Wire\n",
        encoding="utf-8",
    )
    done = import_control(database_dsn, str(bad))
    assert done.returncode == 1
    assert "nothing was recorded" in done.stderr
    for line, says in [
        (3, "'nowhere' is not registered"),
        (4, "holder 'nobody' is not a registered actor"),
        (5, "status 'captured'"),
        (6, "contested names the parties"),
        (7, "as_of '06/12/2024'"),
        (8, "no as_of"),
    ]:
        assert f"line {line}: " in done.stderr
        assert says in done.stderr
    assert "line 2:" not in done.stderr
    assert "Traceback" not in done.stderr
    assert asyncio.run(fetch(database_dsn, LOG_HEAD))[0][0] == head


def test_importing_the_same_file_again_records_nothing_new(database_dsn: str) -> None:
    registrations, _ = sample_commands()
    execute(database_dsn, registrations)
    first = import_control(database_dsn, str(BASELINE))
    head = asyncio.run(fetch(database_dsn, LOG_HEAD))[0][0]
    again = import_control(database_dsn, str(BASELINE))
    assert first.returncode == again.returncode == 0, again.stderr
    assert "recorded 0 assessments (12 already recorded)" in again.stderr
    assert asyncio.run(fetch(database_dsn, LOG_HEAD))[0][0] == head


def test_a_map_exported_as_geojson_seeds_another_frontline(
    database_dsn: str, postgres_dsn: str, tmp_path: Path
) -> None:
    registrations, incidents = sample_commands()
    execute(database_dsn, registrations)
    assert import_control(database_dsn, str(BASELINE)).returncode == 0
    execute(database_dsn, incidents)
    as_of = datetime(2024, 12, 6, tzinfo=UTC)

    async def geojson(dsn: str) -> dict[str, Any]:
        conn = await asyncpg.connect(dsn)
        try:
            await catch_up(conn)
            return dict(json.loads(await q.control_map_geojson(conn, as_of, palette=PALETTE)))
        finally:
            await conn.close()

    exported = asyncio.run(geojson(database_dsn))
    map_file = tmp_path / "map.geojson"
    map_file.write_text(json.dumps(exported), encoding="utf-8")

    with temporary_database(postgres_dsn, migrated=True) as other:
        execute(other, [c for c in registrations if isinstance(c, RegisterActor)])
        seeded = import_control(
            other, str(map_file), "--as-of", "2024-12-06", "--source", "Frontline export"
        )
        assert seeded.returncode == 0, seeded.stderr
        assert "registered 13 places" in seeded.stderr
        copy = asyncio.run(geojson(other))

    def essentials(collection: dict[str, Any]) -> list[Any]:
        keep = ("slug", "name", "kind", "country", "governorate", "status", "controllers")
        return [
            (f["geometry"], {k: f["properties"][k] for k in keep}, f["properties"]["abandoned"])
            for f in collection["features"]
        ]

    assert essentials(copy) == essentials(exported)
    assert all(f["properties"]["assessed"] for f in copy["features"] if f["properties"]["since"])
