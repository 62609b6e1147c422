"""`frontline import-acled` on the bundled fixture (frontline/sample/acled/): 27 rows in ACLED's
layout written from public reporting of the Nov–Dec 2024 offensives, a revision file and a
deletions file; control on several dates before and after them (knownAt), counts,
idempotency, bad rows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from readmodel.projector import catch_up
from tests.support.cli import run_frontline
from tests.support.in_process import read

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[2] / "frontline" / "sample" / "acled"
ROWS, REVISIONS, DELETIONS = (
    FIXTURE / "syria-2024-11.csv",
    FIXTURE / "syria-2024-11-revisions.csv",
    FIXTURE / "syria-2024-11-deletions.csv",
)
HTS_LED = {"hts-hayat-tahrir-al-sham", "military-operations-command"}
SAA = {"military-forces-of-syria-2000-2024"}
HEAD = "SELECT coalesce(max(notification_id), 0) FROM public.frontline_events"


def import_acled(dsn: str, *args: str) -> Any:
    return run_frontline("import-acled", *args, DATABASE_URL=dsn)


async def ask(dsn: str, query: str, **variables: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        await catch_up(conn)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        return await read(pool, query, **variables)
    finally:
        await pool.close()


def control(dsn: str, place: str, day: str, known: int | None = None) -> Any:
    state = asyncio.run(ask(
        dsn,
        """query ($p: String!, $t: DateTime!, $k: Int) {
             controlAt(place: $p, asOf: $t, knownAtPosition: $k) {
               status inferred assessed controllers { slug } evidence { provenance { recordId } }
             } }""",
        p=place, t=f"{day}T12:00:00+03:00", k=known,
    ))["controlAt"]  # fmt: skip
    if state is None:
        return None
    return {
        "status": state["status"],
        "holders": {c["slug"] for c in state["controllers"]},
        "inferred": state["inferred"],
        "assessed": state["assessed"],
        "evidence": {e["provenance"]["recordId"] for e in state["evidence"] if e["provenance"]},
    }


def head(dsn: str) -> int:
    async def fetch() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            return int(await conn.fetchval(HEAD))
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_the_fixture_imports_with_its_counts_and_answers_control_on_several_dates(
    database_dsn: str,
) -> None:
    done = import_acled(database_dsn, str(ROWS))
    assert done.returncode == 0, done.stderr
    assert "importing" in done.stderr  # the progress bar, on stderr
    assert (
        "rows read: 27; incidents recorded: 27; revised: 0; retracted: 0; unchanged: 0; "
        "rejected: 0; places created: 21; actors created: 10"
    ) in done.stderr

    assert control(database_dsn, "aleppo", "2024-11-29") == {
        "status": "HELD", "holders": SAA, "inferred": True, "assessed": False,
        "evidence": {"SYRF005"},
    }  # fmt: skip
    assert control(database_dsn, "aleppo", "2024-12-01")["holders"] == HTS_LED
    assert control(database_dsn, "hama", "2024-12-04")["holders"] == SAA
    assert control(database_dsn, "hama", "2024-12-06")["holders"] == HTS_LED
    assert control(database_dsn, "qomhana", "2024-12-03") == {
        "status": "HELD", "holders": SAA, "inferred": False, "assessed": False,
        "evidence": {"SYRF013"},  # the army's claim that it pushed them back
    }  # fmt: skip
    assert control(database_dsn, "tell-refaat", "2024-12-03")["holders"] == {
        "sna-syrian-national-army"
    }
    assert control(database_dsn, "deir-ez-zor", "2024-12-07")["holders"] == {
        "sdf-syrian-democratic-forces"
    }
    airport = control(database_dsn, "hama-military-airport", "2024-12-06")
    assert (airport["holders"], airport["assessed"]) == (HTS_LED, True)  # a base established
    assert control(database_dsn, "damascus", "2024-12-09")["holders"] == HTS_LED

    kinds = asyncio.run(ask(database_dsn, """{
      events: incidents(first: 100) { nodes { kind } }
      assessments: incidents(first: 100, filter: {kinds: [ASSESSMENT]}) { nodes { kind } }
      month: incidents(first: 5, filter: {kinds: [AIR_STRIKE],
                                           occurredTo: "2024-11-20T00:00:00Z"}) {
        nodes { precision occurredAt occurredUntil } } }"""))  # fmt: skip
    tally: dict[str, int] = {}
    for node in kinds["events"]["nodes"]:
        tally[node["kind"]] = tally.get(node["kind"], 0) + 1
    assert tally == {"CAPTURE": 16, "CLASH": 3, "AIR_STRIKE": 4, "STRIKE": 1, "OTHER": 2}
    assert len(kinds["assessments"]["nodes"]) == 1
    # A precision-3 row: sometime that month.
    assert kinds["month"]["nodes"] == [{
        "precision": "RANGE", "occurredAt": "2024-11-01T00:00:00+00:00",
        "occurredUntil": "2024-12-01T00:00:00+00:00",
    }]  # fmt: skip


def test_importing_again_records_nothing(database_dsn: str) -> None:
    assert import_acled(database_dsn, str(ROWS)).returncode == 0
    before = head(database_dsn)
    again = import_acled(database_dsn, str(ROWS))
    assert again.returncode == 0, again.stderr
    assert "incidents recorded: 0; revised: 0; retracted: 0; unchanged: 27" in again.stderr
    assert head(database_dsn) == before


def test_revisions_amend_and_deletions_retract_while_knownat_keeps_the_old_beliefs(
    database_dsn: str,
) -> None:
    assert import_acled(database_dsn, str(ROWS)).returncode == 0
    original = head(database_dsn)
    done = import_acled(database_dsn, str(REVISIONS), "--deletions", str(DELETIONS))
    assert done.returncode == 0, done.stderr
    assert "rows read: 3; incidents recorded: 0; revised: 3; retracted: 1" in done.stderr
    assert "deletions of events not held: 1" in done.stderr  # SYRF999 was never imported

    # Qomhana: the army's claim recoded as a clash, so the capture of 4 Dec is the first
    # change of control there, and before it the army is inferred.
    assert control(database_dsn, "qomhana", "2024-12-03")["inferred"] is True
    assert control(database_dsn, "qomhana", "2024-12-03", known=original)["evidence"] == {"SYRF013"}
    # Rastan: the clash of 6 Dec recoded as the capture; the capture of 7 Dec deleted.
    now = control(database_dsn, "ar-rastan", "2024-12-08")
    then = control(database_dsn, "ar-rastan", "2024-12-08", known=original)
    assert (now["holders"], now["evidence"]) == (HTS_LED, {"SYRF019"})
    assert (then["holders"], then["evidence"]) == (HTS_LED, {"SYRF020"})
    assert control(database_dsn, "ar-rastan", "2024-12-06")["holders"] == HTS_LED
    assert control(database_dsn, "ar-rastan", "2024-12-06", known=original)["holders"] == SAA

    hama = asyncio.run(ask(database_dsn, """{ incidents(first: 100, filter: {place: "hama",
        kinds: [CAPTURE]}) { nodes { fatalities provenance { revision }
                                    history { type reason } } } }"""
    ))["incidents"]["nodes"][0]  # fmt: skip
    assert (hama["fatalities"], hama["provenance"]["revision"]) == (3, "1734500000")
    assert [h["type"] for h in hama["history"]] == ["Recorded", "Amended"]
    assert hama["history"][1]["reason"] == "ACLED revision of timestamp 1734500000"
    amendment = asyncio.run(ask(database_dsn, """{ log(first: 100) { nodes { type } } }"""))
    assert sum(n["type"] == "Incident.Amended" for n in amendment["log"]["nodes"]) == 3

    again = import_acled(database_dsn, str(REVISIONS), "--deletions", str(DELETIONS))
    assert "revised: 0; retracted: 0; unchanged: 4" in again.stderr  # 3 rows, 1 deletion


def test_bad_rows_are_reported_and_the_good_ones_land_unless_strict(
    database_dsn: str, tmp_path: Path
) -> None:
    lines = ROWS.read_text(encoding="utf-8").splitlines()
    header, good = lines[0], lines[1:4]
    bad = tmp_path / "bad.csv"
    columns = header.split(",")
    broken_date = good[0].replace("27 November 2024", "the 27th", 1)
    no_id = "," + good[1].split(",", 1)[1].replace("SYRF002", "", 1)
    bad.write_text("\n".join([header, broken_date, no_id, good[2]]) + "\n", encoding="utf-8")
    assert "event_date" in columns

    strict = import_acled(database_dsn, str(bad), "--strict")
    assert strict.returncode == 1
    assert "bad.csv:2: event_date: 'the 27th' is not a date" in strict.stderr
    assert "bad.csv:3: event_id_cnty: is empty" in strict.stderr
    assert "nothing was recorded; 2 rows are bad" in strict.stderr
    assert head(database_dsn) == 0

    lenient = import_acled(database_dsn, str(bad))
    assert lenient.returncode == 1
    assert "incidents recorded: 1;" in lenient.stderr
    assert "2 rows were rejected" in lenient.stderr
    assert "Traceback" not in lenient.stderr


def test_a_dry_run_counts_and_writes_nothing(database_dsn: str) -> None:
    done = import_acled(database_dsn, str(ROWS), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "dry run, nothing recorded: rows read: 27; incidents recorded: 27" in done.stderr
    assert head(database_dsn) == 0


def _rows(tmp_path: Path, name: str, *lines: str) -> Path:
    header = ROWS.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _clash(record_id: str, admin2: str, lat: str, lon: str, timestamp: str, day: str = "27") -> str:
    return (
        f"{record_id},2024-11-{day},2024,1,Political violence,Battles,Armed clash,"
        "HTS: Hayat Tahrir al Sham,,Rebel group,Military Forces of Syria (2000-2024),,"
        f"State forces,,,760,Middle East,Syria,Hama,{admin2},,Tall,{lat},{lon},1,SOHR,"
        f"Local partner-Other,A clash at Tall.,0,,{timestamp}"
    )


def places_of(dsn: str) -> dict[str, str]:
    nodes = asyncio.run(
        ask(
            dsn,
            """{ incidents(first: 50, filter: {kinds: [CLASH]}) {
        nodes { provenance { recordId } places { slug } } } }""",
        )
    )["incidents"]["nodes"]
    return {n["provenance"]["recordId"]: n["places"][0]["slug"] for n in nodes}


def test_namesakes_in_other_districts_stay_apart_in_a_later_import(
    database_dsn: str, tmp_path: Path
) -> None:
    first = _rows(tmp_path, "first.csv", _clash("T1", "Masyaf", "35.06", "36.34", "100"),
                  _clash("T2", "Salamiyeh", "35.01", "37.05", "100"))  # fmt: skip
    assert import_acled(database_dsn, str(first)).returncode == 0
    later = _rows(tmp_path, "later.csv", _clash("T2", "Salamiyeh", "35.01", "37.05", "200"),
                  _clash("T3", "Salamiyeh", "35.01", "37.05", "100", day="28"))  # fmt: skip
    done = import_acled(database_dsn, str(later))
    assert done.returncode == 0, done.stderr
    assert "revised: 1" in done.stderr
    assert places_of(database_dsn) == {"T1": "tall", "T2": "tall-salamiyeh", "T3": "tall-salamiyeh"}


def test_strict_checks_every_row_as_recording_would_and_records_nothing(
    database_dsn: str, tmp_path: Path
) -> None:
    lines = ROWS.read_text(encoding="utf-8").splitlines()
    future = lines[2].replace("2024-11-27", "2030-11-27", 1)
    nul = lines[3].replace("Syrian Observatory", "Syrian\x00Observatory", 1)
    path = _rows(tmp_path, "domain.csv", lines[1], future, nul)
    strict = import_acled(database_dsn, str(path), "--strict")
    assert strict.returncode == 1
    assert "domain.csv:3: occurredAt:" in strict.stderr  # refused by the domain, not the mapping
    assert "domain.csv:4:" in strict.stderr
    assert "--strict: nothing was recorded; 2 rows are bad" in strict.stderr
    assert head(database_dsn) == 0
    dry = import_acled(database_dsn, str(path), "--dry-run")
    assert "incidents recorded: 1;" in dry.stderr
    assert "rejected: 2" in dry.stderr
    assert head(database_dsn) == 0


def test_a_file_that_stops_being_csv_is_refused_before_anything_is_recorded(
    database_dsn: str, tmp_path: Path
) -> None:
    lines = ROWS.read_text(encoding="utf-8").splitlines()
    broken = lines[4].replace("Reuters", "x" * 200_000, 1)  # past the csv module's field limit
    path = _rows(tmp_path, "broken.csv", lines[1], lines[2], lines[3], broken)
    done = import_acled(database_dsn, str(path), "--chunk", "2")
    assert done.returncode == 1
    assert "broken.csv: line 5: not CSV" in done.stderr
    assert "Traceback" not in done.stderr
    assert head(database_dsn) == 0

    latin = tmp_path / "latin.csv"
    latin.write_bytes(path.read_bytes()[:2000].replace(b"Reuters", "Réuters".encode("latin-1")))
    done = import_acled(database_dsn, str(latin))
    assert done.returncode == 1
    assert "not UTF-8 text" in done.stderr
    assert head(database_dsn) == 0


def test_a_revision_that_no_longer_gives_notes_or_fatalities_empties_them(
    database_dsn: str, tmp_path: Path
) -> None:
    first = _clash("T9", "Masyaf", "35.06", "36.34", "100").replace(",0,,100", ",5,,100")
    assert import_acled(database_dsn, str(_rows(tmp_path, "a.csv", first))).returncode == 0
    blank = _clash("T9", "Masyaf", "35.06", "36.34", "200").replace("A clash at Tall.,0,", ",,")
    done = import_acled(database_dsn, str(_rows(tmp_path, "b.csv", blank)))
    assert "revised: 1" in done.stderr, done.stderr
    found = asyncio.run(
        ask(
            database_dsn,
            """{ incidents(first: 5, filter: {kinds: [CLASH]}) {
        nodes { fatalities summary history { type } } } }""",
        )
    )["incidents"]["nodes"]
    assert found == [{"fatalities": None, "summary": None,
                      "history": [{"type": "Recorded"}, {"type": "Amended"}]}]  # fmt: skip
