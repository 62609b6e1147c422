"""The golden log (tests/golden/log.ndjson: the sample and every kind of correction, written
by the release that made it) is imported and rebuilt by every release after it, and still
answers as it did. A failure here means a change broke the reading of existing logs: add an
upcaster (README: "Changing an event"), never edit the golden file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from domain.vocabulary import IncidentKind
from tests.support.cli import run_frontline
from tests.support.in_process import read

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "log.ndjson"


def frontline(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_frontline(*args, DATABASE_URL=dsn)


async def ask(dsn: str, query: str) -> Any:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        return await read(pool, query)
    finally:
        await pool.close()


async def test_the_golden_log_imports_rebuilds_and_answers_as_it_did(
    blank_database_dsn: str,
) -> None:
    lines = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    imported = frontline(blank_database_dsn, "import", str(GOLDEN))
    assert imported.returncode == 0, imported.stderr

    conn = await asyncpg.connect(blank_database_dsn)
    try:
        log = await conn.fetch(
            "SELECT notification_id, recorded_at FROM public.frontline_events ORDER BY 1"
        )
        entries = await conn.fetch("SELECT type FROM rm.log_entries ORDER BY position")
        types = [r[0] for r in entries]
        kinds = {r[0] for r in await conn.fetch("SELECT DISTINCT kind FROM rm.incidents")}
    finally:
        await conn.close()
    assert [r["notification_id"] for r in log] == [line["position"] for line in lines]
    assert [r["recorded_at"].isoformat() for r in log] == [line["recorded_at"] for line in lines]
    for entry in ("Recorded", "Corroborated", "Disputed", "Confirmed", "Amended", "Retracted"):
        assert f"Incident.{entry}" in types
    assert {"Place.Registered", "Actor.Registered"} <= set(types)
    # Every kind of incident the release that wrote it had.
    assert kinds == {
        IncidentKind.CAPTURE, IncidentKind.WITHDRAWAL, IncidentKind.AIRCRAFT_LOSS,
        IncidentKind.CLASH, IncidentKind.ADVANCE, IncidentKind.AIR_STRIKE,
        IncidentKind.STATEMENT, IncidentKind.ANTICIPATED_OPERATION,
    }, kinds  # fmt: skip

    answers = await ask(
        blank_database_dsn,
        """{
          hama: controlAt(place: "hama") { status controllers { slug } }
          airport: controlAt(place: "hama-military-airport", asOf: "2024-12-04T12:00:00Z") {
            status controllers { slug } }
          erze: controlAt(place: "erze", asOf: "2024-12-09T12:00:00Z") {
            status disputed controllers { slug } }
          retracted: incidents(first: 5, filter: {statuses: [RETRACTED]}) { nodes { summary } }
        }""",
    )
    assert answers["hama"] == {
        "status": "HELD",
        "controllers": [{"slug": "hts"}, {"slug": "military-operations-command"}],
    }
    assert answers["airport"]["controllers"] == [{"slug": "hts"}]  # the late report counts
    assert answers["erze"] == {
        "status": "HELD",
        "disputed": False,  # disputed, then confirmed
        "controllers": [{"slug": "syrian-arab-army"}],
    }
    summaries = [n["summary"] for n in answers["retracted"]["nodes"]]
    assert "golden wrong-village" in summaries


ASSESSMENTS = GOLDEN.with_name("assessments.ndjson")


async def test_the_golden_log_of_assessments_imports_rebuilds_and_answers_as_it_did(
    blank_database_dsn: str,
) -> None:
    """Written by the release that added control assessments: the baseline, and one
    assessment of each status and tier, corrected."""
    imported = frontline(blank_database_dsn, "import", str(ASSESSMENTS))
    assert imported.returncode == 0, imported.stderr
    answers = await ask(
        blank_database_dsn,
        """{
          halfaya1: controlAt(place: "halfaya", asOf: "2024-12-01T12:00:00Z") {
            status assessed controllers { slug } }
          halfaya7: controlAt(place: "halfaya", asOf: "2024-12-07T12:00:00Z") {
            status assessed disputed controllers { slug } evidence { status } }
          taybat: controlAt(place: "taybat-al-imam", asOf: "2024-12-08T12:00:00Z") {
            status controllers { slug } }
          airport: controlAt(place: "hama-military-airport", asOf: "2024-12-09T12:00:00Z") {
            status abandoned assessed }
          idlib: controlAt(place: "idlib", asOf: "2024-12-04T12:00:00Z") {
            controllers { slug } }
          hama: controlAt(place: "hama", asOf: "2024-12-01T12:00:00+03:00") {
            assessed inferred controllers { slug } }
          assessments: incidents(first: 50, filter: {kinds: [ASSESSMENT]}) { nodes { status } }
          events: incidents(first: 50) { nodes { kind } }
        }""",
    )
    assert answers["halfaya1"] == {
        "status": "HELD", "assessed": True, "controllers": [{"slug": "syrian-arab-army"}],
    }  # fmt: skip
    contested = answers["halfaya7"]
    assert (contested["status"], contested["assessed"], contested["disputed"]) == (
        "CONTESTED", True, False,  # disputed, then confirmed
    )  # fmt: skip
    assert {c["slug"] for c in contested["controllers"]} == {"syrian-arab-army", "hts"}
    assert {"CONFIRMED"} <= {e["status"] for e in contested["evidence"]}
    assert answers["taybat"] == {"status": "UNKNOWN", "controllers": []}
    assert answers["airport"] == {"status": "CONTESTED", "abandoned": True, "assessed": True}
    assert answers["idlib"]["controllers"] == [{"slug": "hts"}]  # the wrong map retracted
    assert answers["hama"] == {
        "assessed": True, "inferred": False, "controllers": [{"slug": "syrian-arab-army"}],
    }  # fmt: skip
    statuses = [n["status"] for n in answers["assessments"]["nodes"]]
    assert len(statuses) == 16
    assert "RETRACTED" in statuses
    assert "ASSESSMENT" not in {n["kind"] for n in answers["events"]["nodes"]}
