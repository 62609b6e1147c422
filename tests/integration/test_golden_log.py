"""The golden log (tests/golden/log.ndjson: the sample and every kind of correction, written
by the release that made it) is imported and rebuilt by every release after it, and still
answers as it did. A failure here means a change broke the reading of existing logs: add an
upcaster (README: "Changing an event"), never edit the golden file."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api.graphql.context import Context
from api.graphql.schema import schema
from domain.vocabulary import IncidentKind
from tests.support.cli import run_frontline

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "log.ndjson"


def frontline(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_frontline(*args, DATABASE_URL=dsn)


async def ask(dsn: str, query: str) -> Any:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        context = Context(
            pool=pool,
            application=None,  # type: ignore[arg-type]  # queries never write
            principal=None,
            open_reads=True,
            projected=lambda: asyncio.sleep(0, 0),
        )
        result = await schema.execute(query, context_value=context)
        assert result.errors is None, result.errors
        return result.data
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
    assert len(kinds) >= len(IncidentKind) - 1, kinds  # the sample's kinds, all but one or so

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
