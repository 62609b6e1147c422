"""Actors' map colours: the one given at registration (Actor.Recolored), else the palette's by
registration order (rm.actors.color_rank), the same after a rebuild, and the same in
``Actor.color`` and in the GeoJSON map's ``colors``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from api.colors import PALETTE, actor_color
from domain import commands as c
from domain.application import Frontline
from domain.vocabulary import ActorKind
from frontline.sample import load_sample
from readmodel import queries as q
from readmodel.connections import Pool
from readmodel.projector import catch_up
from readmodel.rebuild import rebuild
from tests.support.graphql_client import ask, codes, data, head
from tests.support.in_process import InProcess

ACTORS = "SELECT slug, color, color_rank FROM rm.actors ORDER BY position"


async def test_default_colours_follow_registration_order_and_survive_a_rebuild(
    app: Frontline, db_pool: Pool
) -> None:
    load_sample(app)
    app.execute(
        c.RegisterActor("late-militia", "Late Militia", ActorKind.ARMED_GROUP, color="#abcdef")
    )
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        before = [tuple(r) for r in await conn.fetch(ACTORS)]
        await rebuild(conn)
        after = [tuple(r) for r in await conn.fetch(ACTORS)]
    assert after == before
    assert [rank for _, _, rank in before] == list(range(len(before)))  # registration order
    assert before[-1] == ("late-militia", "#ABCDEF", len(before) - 1)
    defaults = [actor_color(color, rank) for _, color, rank in before[:-1]]
    assert len(set(defaults)) == len(defaults)  # the sample's actors are told apart
    assert set(defaults) <= set(PALETTE)


async def test_the_geojson_map_gives_each_holder_its_colour(app: Frontline, db_pool: Pool) -> None:
    load_sample(app)
    app.execute(
        c.RegisterActor(
            "hts",
            "Hay'at Tahrir al-Sham",
            ActorKind.ARMED_GROUP,
            side="opposition",
            color="#000000",
        )
    )
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        ranks = {
            r["slug"]: actor_color(r["color"], r["color_rank"]) for r in await conn.fetch(ACTORS)
        }
        text = await q.control_map_geojson(conn, datetime(2024, 12, 8, tzinfo=UTC), palette=PALETTE)
    features = {f["id"]: f["properties"] for f in json.loads(text)["features"]}
    hama = features["hama"]
    assert "hts" in hama["controllers"]
    assert hama["colors"] == [ranks[slug] for slug in hama["controllers"]]
    assert hama["colors"][hama["controllers"].index("hts")] == "#000000"


@pytest.mark.slow
def test_register_actor_takes_a_colour_and_actor_color_answers_it(api: InProcess) -> None:
    registered = data(
        api,
        'mutation { registerActor(input: {slug: "blue-brigade", name: "Blue Brigade",'
        ' kind: ARMED_GROUP, color: "#0072b2"}) { replayed actor { slug color } } }',
        key=api.writer_key,
    )["registerActor"]
    assert registered["actor"] == {"slug": "blue-brigade", "color": "#0072B2"}

    sample = data(api, "{ actors(first: 100) { nodes { slug color } } }")["actors"]["nodes"]
    colours = {a["slug"]: a["color"] for a in sample}
    assert colours["blue-brigade"] == "#0072B2"
    assert colours["hts"] in PALETTE


@pytest.mark.slow
@pytest.mark.parametrize("color", ["blue", "#0072b", "#0072b2; background:url(x)"])
def test_a_colour_that_is_not_rrggbb_is_refused_and_writes_nothing(
    api: InProcess, color: str
) -> None:
    before = head(api)
    body = ask(
        api,
        'mutation($color: String) { registerActor(input: {slug: "odd-colours",'
        ' name: "Odd Colours", kind: ARMED_GROUP, color: $color}) { position } }',
        key=api.writer_key,
        color=color,
    )
    assert codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["extensions"].get("field") == "color"
    assert head(api) == before
