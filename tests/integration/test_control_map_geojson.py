"""The GeoJSON control map built by PostgreSQL (``readmodel.queries.control_map_geojson``)
against the Python builder it replaced, on the sample: same features, same order, same
properties, for many instants, record times and filters, so the two cannot drift.

The reference builder below is the former ``api/graphql/geojson.py``, computed from
``control_map`` (the rows ``controlMap`` pages through) and the holders from ``rm.actors``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from api.colors import PALETTE, actor_color
from domain import commands as c
from domain.application import Frontline
from domain.details import Capture
from domain.identity import actor_id, place_id
from domain.values import Source, ValidTime
from domain.vocabulary import ActorKind, PlaceKind, TimePrecision
from frontline.sample import load_sample
from readmodel import queries as q
from readmodel.connections import Pool
from readmodel.projector import catch_up


def feature_collection(
    entries: list[q.PlaceControl], actors: Mapping[UUID, q.ActorRow]
) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [_feature(e, actors) for e in entries]}


def _feature(entry: q.PlaceControl, actors: Mapping[UUID, q.ActorRow]) -> dict[str, Any]:
    place, state = entry.place, entry.state
    holders = [actors[a] for a in state.controllers if a in actors] if state else []
    return {
        "type": "Feature",
        "id": place.slug,
        "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
        "properties": {
            "slug": place.slug,
            "name": place.name,
            "kind": place.kind.value,
            "country": place.country,
            "governorate": place.governorate,
            "status": state.status.value if state else "unknown",
            "controllers": [a.slug for a in holders],
            "controllerNames": [a.name for a in holders],
            "colors": [actor_color(a.color, a.color_rank) for a in holders],
            "sides": sorted({a.side for a in holders if a.side}),
            "since": state.valid_from.isoformat() if state and state.valid_from else None,
            "disputed": bool(state and state.disputed),
            "inferred": bool(state and state.inferred),
            "uncertain": bool(state and state.uncertain),
            "assessed": bool(state and state.assessed),
            "abandoned": bool(state and state.abandoned),
        },
    }


async def python_built(conn: Any, as_of: datetime, known_at: datetime | None, **f: Any) -> Any:
    entries = await q.control_map(conn, as_of, known_at, **f)
    ids = sorted({a for e in entries if e.state for a in e.state.controllers})
    return feature_collection(entries, await q.actors_by_id(conn, ids))


# A joint capture at a sub-second instant by holders with and without sides, two on the same
# side: "since" with microseconds, holders in recorded order, sides distinct, sorted, no blanks.
ODD_TIME = datetime(2024, 12, 9, 10, 11, 12, 345600, tzinfo=UTC)
JOINT_SLUGS = ["local-militia", "hts", "independents", "military-operations-command"]
JOINT = tuple(actor_id(s) for s in JOINT_SLUGS)


async def test_sql_geojson_equals_the_python_builder_on_the_sample(
    app: Frontline, db_pool: Pool
) -> None:
    load_sample(app)
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        recorded = await conn.fetchval("SELECT clock_timestamp()")
    # "Local" sorts before "opposition" by code point but after it in most locales.
    app.execute(c.RegisterActor("local-militia", "Local Militia", ActorKind.ARMED_GROUP, "Local"))
    app.execute(c.RegisterActor("independents", "Independents", ActorKind.ARMED_GROUP))
    app.execute(
        c.RecordIncident(
            Capture(by=JOINT, taken_from=None),
            ValidTime(ODD_TIME, TimePrecision.EXACT),
            (place_id("homs"),),
            (Source(outlet="Test Wire"),),
        )
    )
    async with db_pool.acquire() as conn:
        await catch_up(conn)

    instants = [datetime(2024, 11, 25, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(60)]
    instants += [ODD_TIME - timedelta(microseconds=1), ODD_TIME, datetime.now(UTC)]
    hts = actor_id("hts")
    filters: list[dict[str, Any]] = [
        {},
        {"bbox": (35.10, 36.60, 35.20, 36.80)},
        {"near": (35.1318, 36.7578, 5.0)},
        {"governorate": "Hama"},
        {"kinds": [PlaceKind.VILLAGE, PlaceKind.CITY]},
        {"controller": hts},
        {"governorate": "Nowhere"},
    ]
    compared = with_homs_joint = 0
    async with db_pool.acquire() as conn:
        for known_at in (None, recorded, datetime(2000, 1, 1, tzinfo=UTC)):
            for as_of in instants:
                for f in filters:
                    expected = await python_built(conn, as_of, known_at, **f)
                    text = await q.control_map_geojson(conn, as_of, known_at, palette=PALETTE, **f)
                    assert json.loads(text) == expected, (as_of, known_at, f)
                    assert text == json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
                    compared += 1
                    with_homs_joint += any(
                        ft["properties"]["controllers"] == JOINT_SLUGS
                        and ft["properties"]["sides"] == ["Local", "opposition"]
                        for ft in expected["features"]
                    )
    assert compared == 3 * len(instants) * len(filters)
    assert with_homs_joint  # the odd capture was seen, with its holders in order


async def test_sql_geojson_keeps_python_key_order_and_since_format(
    app: Frontline, db_pool: Pool
) -> None:
    load_sample(app)
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        text = await q.control_map_geojson(conn, datetime(2024, 12, 8, tzinfo=UTC), palette=PALETTE)
        expected = await python_built(conn, datetime(2024, 12, 8, tzinfo=UTC), None)
    # Byte for byte what Python's json.dumps writes (compact, UTF-8), keys in the same order.
    assert text == json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
    assert {f["properties"]["since"] for f in expected["features"]} - {None}


async def test_a_limit_builds_only_the_first_places_of_the_maps_order(
    app: Frontline, db_pool: Pool
) -> None:
    load_sample(app)
    at = datetime(2024, 12, 8, tzinfo=UTC)
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        whole = json.loads(await q.control_map_geojson(conn, at, palette=PALETTE))["features"]
        first = json.loads(await q.control_map_geojson(conn, at, palette=PALETTE, limit=3))
        held = json.loads(
            await q.control_map_geojson(
                conn, at, palette=PALETTE, limit=2, controller=actor_id("hts")
            )
        )["features"]
        all_held = json.loads(
            await q.control_map_geojson(conn, at, palette=PALETTE, controller=actor_id("hts"))
        )["features"]
    assert len(whole) > 3
    assert first["features"] == whole[:3]
    assert held == all_held[:2]
