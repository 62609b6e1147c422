"""The incident feed's filters exist twice: as SQL (``incident_feed``, for queries) and as a
Python predicate (``incident_matcher``, for live subscriptions, which filter rows they hold
in memory). This property test holds the two together: for random filters over the sample,
both keep exactly the same incidents (the haversine distance, the open bounds of the time
window and the antimeridian-crossing box included)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.application import Frontline
from domain.details import Clash
from domain.identity import actor_id, place_id
from domain.values import Source, ValidTime
from domain.vocabulary import AssessmentTier, ClaimStatus, IncidentKind
from frontline.baseline import Defaults, Row, baseline_commands, read_rows
from frontline.database import eventsourcing_env
from frontline.sample import load_sample
from readmodel.projector import catch_up
from readmodel.queries.batch import places_by_id
from readmodel.queries.incidents import FeedOrder, incident_feed
from readmodel.queries.live import NewIncident, incident_matcher
from readmodel.queries.rows import incident_from_row
from tests.support.databases import temporary_database

pytestmark = pytest.mark.slow

T0 = datetime(2024, 11, 20, tzinfo=UTC)
BASELINE = Path(__file__).resolve().parents[2] / "frontline" / "sample" / "baseline-2024-11-26.csv"
TIERS = [t.value for t in AssessmentTier]


@pytest.fixture(scope="module")
def sample(postgres_dsn: str) -> Iterator[tuple[str, list[NewIncident]]]:
    """A database holding the projected sample and the bundled baseline (assessments of
    every tier), and every incident with its places."""
    with temporary_database(postgres_dsn, prefix="filters_agree", migrated=True) as dsn:
        app = Frontline(env=eventsourcing_env(dsn))
        try:
            load_sample(app)
            rows = read_rows(BASELINE.read_bytes())
            tiered = [
                Row(row.where, {**row.fields, "tier": TIERS[n % len(TIERS)]})
                for n, row in enumerate(rows)
            ]
            commands, _ = baseline_commands(tiered, "filters", Defaults(), app.exists)
            app.execute_batch(commands)
            app.execute_batch([  # clashes that report deaths, and one that reports none
                c.RecordIncident(
                    Clash(parties=(actor_id("hts"), actor_id("syrian-arab-army"))),
                    ValidTime(T0 + timedelta(days=n), "day"), (place_id("hama"),),
                    (Source("Wire"),), fatalities=None if n == 4 else n,
                )
                for n in range(5)
            ])  # fmt: skip
        finally:
            app.close()
        yield dsn, asyncio.run(_projected_incidents(dsn))


async def _projected_incidents(dsn: str) -> list[NewIncident]:
    conn = await asyncpg.connect(dsn)
    try:
        await catch_up(conn)
        rows = [incident_from_row(r) for r in await conn.fetch("SELECT * FROM rm.incidents")]
        places = await places_by_id(conn, sorted({p for r in rows for p in r.place_ids}))
    finally:
        await conn.close()
    return [NewIncident(r, tuple(places[p] for p in r.place_ids if p in places)) for r in rows]


def filters(incidents: list[NewIncident]) -> st.SearchStrategy[dict[str, Any]]:
    actors = sorted({a for i in incidents for a in i.row.actor_ids})
    places = sorted({p.id for i in incidents for p in i.places})
    governorates = sorted({p.governorate for i in incidents for p in i.places if p.governorate})
    latitude, longitude = st.floats(33, 37), st.floats(34, 40)
    box = st.tuples(latitude, longitude, latitude, longitude).map(
        lambda b: (min(b[0], b[2]), b[1], max(b[0], b[2]), b[3])  # crosses when lon1 > lon2
    )
    near = st.tuples(latitude, longitude, st.floats(1, 150))
    instant = st.integers(0, 30 * 24).map(lambda h: T0 + timedelta(hours=h))
    return st.fixed_dictionaries(
        {},
        optional={
            "kinds": st.lists(st.sampled_from(list(IncidentKind)), min_size=1, unique=True),
            "statuses": st.lists(st.sampled_from(list(ClaimStatus)), min_size=1, unique=True),
            "tiers": st.lists(st.sampled_from(list(AssessmentTier)), min_size=1, unique=True),
            "min_fatalities": st.integers(0, 3),
            "actor": st.sampled_from(actors),
            "place": st.sampled_from(places),
            "governorate": st.sampled_from(governorates),
            "bbox": box,
            "near": near,
            "valid_from": instant,
            "valid_to": instant,
        },
    )


def test_the_sql_filter_and_the_live_matcher_keep_the_same_incidents(
    sample: tuple[str, list[NewIncident]],
) -> None:
    dsn, incidents = sample

    async def by_sql(args: dict[str, Any]) -> set[Any]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await incident_feed(conn, order=FeedOrder.LOG, limit=500, **args)
        finally:
            await conn.close()
        return {r.id for r in rows}

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(args=filters(incidents))
    def agree(args: dict[str, Any]) -> None:
        matcher = incident_matcher(**args)
        in_python = {i.row.id for i in incidents if matcher(i)}
        assert asyncio.run(by_sql(args)) == in_python, args

    agree()
