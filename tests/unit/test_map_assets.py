"""The map's pure parts: the picture's projection and dots (api.map.svg), the outlines read
from the countryinfo wheel, and the page's policy for a tile server (api.map.page)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from api.colors import NOBODY, PALETTE, actor_color
from api.map.outlines import outlines, outlines_geojson
from api.map.page import page_policy, tile_origin
from api.map.svg import Frame, dot_of, render

HELD = {"status": "held", "colors": ["#117733"]}


def test_the_frame_maps_its_corners_to_the_canvas_keeping_mercators_aspect() -> None:
    frame = Frame(west=30.0, south=30.0, east=40.0, north=40.0, width=800, height=800)
    left, top = frame.project(30.0, 40.0)
    right, bottom = frame.project(40.0, 30.0)
    # Letterboxed: Mercator stretches latitude, so the 10°×10° box is taller than wide.
    assert (top, bottom) == (pytest.approx(0.0), pytest.approx(800.0))
    assert right - left < 800
    assert left + right == pytest.approx(800.0)  # centred


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (HELD, {"fill": "#117733", "dash": None}),
        (
            {"status": "contested", "colors": ["#117733", "#CC6677"]},
            {"stroke": "#CC6677", "dash": "4 3"},
        ),
        (
            {"status": "contested", "abandoned": True, "colors": []},
            {"fill": "#FFFFFF", "dash": "4 3"},
        ),
        ({"status": "unknown", "colors": []}, {"fill": NOBODY, "radius": 4.0}),
        ({**HELD, "uncertain": True}, {"fill_opacity": 0.35, "stroke_opacity": 0.5}),
        ({**HELD, "inferred": True}, {"dash": "1 3"}),
        ({**HELD, "disputed": True}, {"ring": True}),
        ({**HELD, "assessed": True}, {"fill": "#FFFFFF", "stroke": "#117733"}),
    ],
)
def test_each_state_and_flag_is_drawn_differently(props: dict, expected: dict) -> None:
    dot = dot_of(props)
    assert {k: getattr(dot, k) for k in expected} == expected


def test_the_picture_escapes_names_and_keeps_only_the_outlines_it_shows() -> None:
    feature = {
        "id": "x",
        "geometry": {"type": "Point", "coordinates": [36.75, 35.13]},
        "properties": {**HELD, "slug": "x", "name": "<script>alert(1)</script>",
                       "controllers": ["a"], "controllerNames": ["A & B"]},
    }  # fmt: skip
    frame = Frame(35.0, 32.0, 42.5, 37.5, 600, 400)
    svg = render([feature], outlines(), frame, "As of now")
    root = ET.fromstring(svg)  # noqa: S314 - well-formed, or this raises
    assert "<script>" not in svg
    shown = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert "Syria" in shown
    assert "Brazil" not in shown
    assert "A &amp; B" in svg


def test_the_outlines_cover_the_world_and_are_one_feature_collection() -> None:
    names = {o.name for o in outlines()}
    assert {"Syria", "Iraq", "Ukraine", "Sudan"} <= names
    assert len(outlines_geojson()) < 400_000  # rounded to ~100 m: a backdrop, not a survey
    syria = next(o for o in outlines() if o.name == "Syria")
    west, south, east, north = syria.bbox
    assert (35 < west < 36.5, 32 < south < 33, 42 < east < 42.5, 37 < north < 37.5) == (True,) * 4


def test_a_tile_server_is_the_only_other_origin_the_page_may_load_from() -> None:
    offline = page_policy(None)
    assert "img-src 'self' data: blob:;" in offline
    online = page_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.tile.example.org;" in online
    assert "connect-src 'self'" in online  # tiles are images; nothing else leaves the host
    assert tile_origin("https://tiles.example.org:8443/{z}/{x}/{y}.png") == (
        "https://tiles.example.org:8443"
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://tiles.{s}.example.org/{z}/{x}/{y}.png",  # {s} not the first label
        "https://data{s}.example.org/{z}/{x}/{y}.png",
        "https://user:secret@tiles.example.org/{z}/{x}/{y}.png",
        "https:///{z}/{x}/{y}.png",
    ],
)
def test_a_tile_url_that_would_make_a_wrong_policy_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="FRONTLINE_TILE_URL"):
        tile_origin(url)


def test_default_colours_come_from_the_palette_by_rank_unless_given() -> None:
    assert actor_color(None, 0) == PALETTE[0]
    assert actor_color(None, len(PALETTE) + 2) == PALETTE[2]
    assert actor_color("#ABCDEF", 0) == "#ABCDEF"


def test_the_page_tells_its_script_the_tile_server_and_escapes_it() -> None:
    from api.map.page import _page  # noqa: PLC0415 - the template's rendering, no server

    offline = _page(None)
    assert '"tileUrl": null' in offline
    online = _page("https://tiles.example.org/{z}/{x}/{y}.png?x=</script>")
    assert '"tileUrl": "https://tiles.example.org/{z}/{x}/{y}.png?x=\\u003c/script>"' in online
    assert '</script>"' not in online


def test_a_picture_cut_short_says_so_on_its_date_line() -> None:
    frame = Frame(35.0, 32.0, 42.5, 37.5, 600, 400)
    assert "(more not drawn)" in render([], (), frame, "As of now", more=True)
    assert "0 places" in render([], (), frame, "As of now")


def test_a_dot_costs_bounded_bytes_whatever_its_names() -> None:
    long = "&" * 190
    feature = {
        "id": "x",
        "geometry": {"type": "Point", "coordinates": [36.75, 35.13]},
        "properties": {**HELD, "slug": "x", "name": long, "controllers": ["a"] * 50,
                       "controllerNames": [long] * 50, "colors": ["#117733"] * 50},
    }  # fmt: skip
    svg = render([feature], (), Frame(35.0, 32.0, 42.5, 37.5, 600, 400), "As of now")
    title = svg[svg.index("<title>") : svg.index("</title>")]
    assert len(title) < 1_000
    assert "and 49 more" in title
