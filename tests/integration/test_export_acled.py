"""`frontline export --format acled-csv`: ACLED's layout back out, and the round trip — the
export of the imported fixture (with its revisions and deletions), imported into an empty
database, gives the same answers."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bench.acled_synthetic import write_file
from frontline.acled import COLUMNS
from frontline.acled_export import HEADER
from frontline.migrate import migrate
from tests.integration.test_import_acled import DELETIONS, REVISIONS, ROWS, ask, import_acled
from tests.support.cli import run_frontline
from tests.support.databases import temporary_database

pytestmark = pytest.mark.slow

DAYS = [f"2024-11-{d}" for d in range(26, 31)] + [f"2024-12-{d:02d}" for d in range(1, 12)]
INCIDENTS = """{ incidents(first: 40, filter: {kinds: [CAPTURE, WITHDRAWAL, CLASH, AIR_STRIKE,
  STRIKE, OTHER, ASSESSMENT]}) { nodes {
    kind status occurredAt occurredUntil precision summary fatalities
    provenance { recordId revision }
    places { slug name } actors { slug name kind } sources { outlet quote role }
    details { __typename ... on CaptureDetails { by { slug } takenFrom { slug } }
              ... on ClashDetails { parties { slug } }
              ... on OtherEventDetails { category parties { slug } } }
} } }"""
MAP = """query ($t: DateTime!) { controlMap(first: 100, asOf: $t) { nodes {
    place { slug } state { status inferred assessed abandoned controllers { slug } } } } }"""


def export(dsn: str, *args: str) -> Any:
    return run_frontline("export", "--format", "acled-csv", *args, DATABASE_URL=dsn)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def answers(dsn: str) -> dict[str, Any]:
    """Everything a user would ask of the imported events now: each standing incident by
    its ACLED id, and the control map on every day of the offensive."""
    found = asyncio.run(ask(dsn, INCIDENTS))["incidents"]["nodes"]
    incidents = {}
    for node in found:
        if node["status"] == "RETRACTED":  # the export leaves it out, as ACLED does
            continue
        record_id = node.pop("provenance")["recordId"]
        node["actors"] = sorted(node["actors"], key=lambda a: a["slug"])
        incidents[record_id] = node
    maps = {}
    for day in DAYS:
        nodes = asyncio.run(ask(dsn, MAP, t=f"{day}T12:00:00Z"))["controlMap"]["nodes"]
        maps[day] = sorted(
            (n["place"]["slug"], n["state"]["status"], n["state"]["inferred"],
             n["state"]["assessed"], sorted(c["slug"] for c in n["state"]["controllers"]))
            for n in nodes if n["state"]
        )  # fmt: skip
    return {"incidents": incidents, "maps": maps}


def test_the_export_imported_into_an_empty_database_gives_the_same_answers(
    database_dsn: str, postgres_dsn: str, tmp_path: Path
) -> None:
    assert import_acled(database_dsn, str(ROWS)).returncode == 0
    revised = import_acled(database_dsn, str(REVISIONS), "--deletions", str(DELETIONS))
    assert revised.returncode == 0, revised.stderr
    exported = tmp_path / "export.csv"
    done = export(database_dsn, "-o", str(exported))
    assert done.returncode == 0, done.stderr
    assert "exported 26 incidents" in done.stderr  # 27 rows, one deleted by ACLED

    written = rows(exported.read_text(encoding="utf-8"))
    assert list(written[0]) == list(HEADER)  # ACLED's columns in ACLED's order, then ours
    assert list(HEADER[: len(COLUMNS)]) == list(COLUMNS)
    assert "SYRF020" not in {r["event_id_cnty"] for r in written}
    hama = next(r for r in written if r["event_id_cnty"] == "SYRF015")  # revised
    assert (hama["fatalities"], hama["timestamp"]) == ("3", "1734500000")

    with temporary_database(postgres_dsn) as empty:
        asyncio.run(migrate(empty))
        again = import_acled(empty, str(exported))
        assert again.returncode == 0, again.stderr
        assert "incidents recorded: 26;" in again.stderr
        before, after = answers(database_dsn), answers(empty)
        assert after["maps"] == before["maps"]
        assert after["incidents"].keys() == before["incidents"].keys()
        for record_id, incident in before["incidents"].items():
            assert after["incidents"][record_id] == incident, record_id
        # ...and exporting the copy writes the same ACLED columns back.
        copy = export(empty)
        assert copy.returncode == 0, copy.stderr
        ours = [[r[c] for c in COLUMNS] for r in written]
        theirs = [[r[c] for c in COLUMNS] for r in rows(copy.stdout)]
        assert theirs == ours


def test_known_at_writes_what_was_believed_then_and_as_of_cuts_by_valid_time(
    database_dsn: str,
) -> None:
    assert import_acled(database_dsn, str(ROWS)).returncode == 0
    then = asyncio.run(_last_record_time(database_dsn))
    assert import_acled(database_dsn, str(REVISIONS), "--deletions", str(DELETIONS)).returncode == 0

    old = rows(export(database_dsn, "--known-at", then).stdout)
    assert len(old) == 27
    by_id = {r["event_id_cnty"]: r for r in old}
    assert "SYRF020" in by_id  # not deleted yet
    assert by_id["SYRF015"]["timestamp"] != "1734500000"  # the first revision
    assert by_id["SYRF013"]["sub_event_type"] == "Government regains territory"

    early = rows(export(database_dsn, "--as-of", "2024-11-29").stdout)
    assert early
    # Whatever may have happened by the end of 29 Nov: a row of the week of 25 Nov too.
    assert all(r["frontline_valid_from"] < "2024-11-30T00:00:00+00:00" for r in early)
    assert len(early) < len(rows(export(database_dsn).stdout))


def test_incidents_recorded_in_frontline_get_the_nearest_acled_type(database_dsn: str) -> None:
    assert run_frontline("load-sample", DATABASE_URL=database_dsn).returncode == 0
    done = export(database_dsn)
    assert done.returncode == 0, done.stderr
    written = rows(done.stdout)
    assert written
    for row in written:
        assert row["event_id_cnty"].startswith("FL-")  # not ACLED's: Frontline's id
        assert row["frontline_id"] == row["event_id_cnty"].removeprefix("FL-")
        assert row["actor1"], row  # ACLED's actor1 is never blank
        assert all(row[c] for c in ("event_date", "location", "latitude")), row
    kinds = {(r["frontline_kind"], r["event_type"], r["sub_event_type"]) for r in written}
    assert ("capture", "Battles", "Non-state actor overtakes territory") in kinds
    assert ("aircraft_loss", "Strategic developments", "Other") in kinds
    hama = next(r for r in written if r["frontline_kind"] == "capture" and r["location"] == "Hama")
    assert hama["event_date"] == "2024-12-05"  # the local day (+03:00), not 21:00Z's date
    withdrawals = {k for k in kinds if k[0] == "withdrawal"}
    assert withdrawals <= {
        ("withdrawal", "Strategic developments", "Other"),
        ("withdrawal", "Strategic developments", "Non-violent transfer of territory"),
    }
    assert withdrawals


def test_bad_export_options_are_refused(database_dsn: str) -> None:
    wrong = run_frontline("export", "--as-of", "2024-12-01", DATABASE_URL=database_dsn)
    assert wrong.returncode == 2
    assert "--as-of and --known-at go with --format acled-csv" in wrong.stderr
    bad = export(database_dsn, "--known-at", "yesterday")
    assert bad.returncode == 2
    assert "'yesterday' is not a date or an ISO 8601 time" in bad.stderr
    naive = export(database_dsn, "--as-of", "2024-12-01T10:00:00")
    assert naive.returncode == 2
    assert "UTC offset" in naive.stderr


async def _last_record_time(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        last = await conn.fetchval("SELECT max(recorded_at) FROM public.frontline_events")
        return str(last.isoformat())
    finally:
        await conn.close()


def test_a_synthetic_export_round_trips_too(
    database_dsn: str, postgres_dsn: str, tmp_path: Path
) -> None:
    """2,000 rows of every type ACLED has, weeks and months among them, dated over twelve
    years: imported, exported, imported into an empty database, exported again — the same
    ACLED columns both times (what the first import understood survives the trip)."""
    source = write_file(tmp_path / "synthetic.csv", 2_000)
    assert import_acled(database_dsn, str(source)).returncode == 0
    first = export(database_dsn, "-o", str(tmp_path / "first.csv"))
    assert first.returncode == 0, first.stderr
    with temporary_database(postgres_dsn) as empty:
        asyncio.run(migrate(empty))
        again = import_acled(empty, str(tmp_path / "first.csv"))
        assert again.returncode == 0, again.stderr
        assert "incidents recorded: 2,000;" in again.stderr
        second = export(empty)
        assert second.returncode == 0, second.stderr
    ours = rows((tmp_path / "first.csv").read_text(encoding="utf-8"))
    theirs = rows(second.stdout)
    assert len(ours) == 2_000
    assert [[r[c] for c in COLUMNS] for r in theirs] == [[r[c] for c in COLUMNS] for r in ours]
    kinds = {r["frontline_kind"] for r in ours}
    assert kinds >= {"capture", "clash", "air_strike", "strike", "assessment", "other"}
    assert {r["time_precision"] for r in ours} == {"1", "2", "3"}
