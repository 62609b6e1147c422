"""GET /map.svg over the wire: the server-drawn map for articles and bots (no browser), its
parameters' typed refusals, and the read rule for keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from tests.support.sample_server import Server, start_server

pytestmark = pytest.mark.slow

SVG = "{http://www.w3.org/2000/svg}"
ON_6_DEC = "2024-12-06T23:59:59Z"


def picture(server: Server, key: str | None = None, **params: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/map.svg", params=params, headers=server.headers(key), timeout=20
    )


def circles(response: httpx.Response) -> dict[str, dict[str, str]]:
    root = ET.fromstring(response.text)  # noqa: S314 - our own server's answer
    return {
        c.attrib["data-slug"]: c.attrib
        for c in root.iter(f"{SVG}circle")
        if "data-slug" in c.attrib
    }


def holder_colour(server: Server, slug: str) -> str:
    answer = httpx.post(
        server.graphql, json={"query": f'{{ actor(ref: "{slug}") {{ color }} }}'}, timeout=10
    )
    color: str = answer.json()["data"]["actor"]["color"]
    return color


def test_the_picture_draws_every_place_in_its_holders_colour_with_a_date_line(
    server: Server,
) -> None:
    response = picture(server, asOf=ON_6_DEC)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    dots = circles(response)
    geojson = httpx.post(
        server.graphql,
        json={"query": f'{{ controlMapGeoJson(asOf: "{ON_6_DEC}") }}'},
        timeout=10,
    ).json()["data"]["controlMapGeoJson"]
    assert set(dots) == {f["id"] for f in geojson["features"]}
    assert dots["hama"]["data-status"] == "held"
    hama = next(f for f in geojson["features"] if f["id"] == "hama")["properties"]
    assert dots["hama"]["fill"] == holder_colour(server, hama["controllers"][0])
    assert "As of 2024-12-06 23:59 UTC" in response.text
    assert "Hay&apos;at Tahrir al-Sham" in response.text or "Hay'at Tahrir al-Sham" in response.text
    assert "<path" in response.text  # the outlines


def test_on_1_dec_hama_is_drawn_in_the_armys_colour(server: Server) -> None:
    dots = circles(picture(server, asOf="2024-12-01T23:59:59Z"))
    assert dots["hama"]["fill"] == holder_colour(server, "syrian-arab-army")


def test_bbox_and_filters_choose_the_places_drawn(server: Server) -> None:
    # Around Hama only: Aleppo (36.2 N) and Damascus (33.5 N) lie outside.
    around_hama = circles(picture(server, asOf=ON_6_DEC, bbox="36.0,34.8,37.5,35.6"))
    assert "hama" in around_hama
    assert not {"aleppo", "damascus"} & set(around_hama)
    cities = circles(picture(server, asOf=ON_6_DEC, kind="city"))
    assert {"hama", "aleppo"} <= set(cities)
    assert "hama-military-airport" not in cities
    held_by_hts = circles(picture(server, asOf=ON_6_DEC, controller="hts"))
    assert "hama" in held_by_hts
    assert all(d["data-status"] == "held" for d in held_by_hts.values())


def test_the_size_is_asked_for_in_pixels_within_bounds(server: Server) -> None:
    root = ET.fromstring(picture(server, width="640", height="480").text)  # noqa: S314
    assert (root.attrib["width"], root.attrib["height"]) == ("640", "480")


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"asOf": "yesterday"}, "asOf"),
        ({"knownAt": "2024-12-06T12:00:00"}, "knownAt"),  # no time zone
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "40,30,36,35"}, "bbox"),  # west > east
        ({"bbox": "nan,1,2,3"}, "bbox"),
        ({"width": "99999"}, "width"),
        ({"width": "²"}, "width"),  # a digit to str.isdigit, not to int()
        ({"asOf": "0001-01-01T00:00:00+01:00"}, "asOf"),
        ({"asOf": "9999-12-31T23:30:00-01:00"}, "asOf"),
        ({"height": "-5"}, "height"),
        ({"kind": "castle"}, "kind"),
        ({"controller": "nobody-at-all"}, "controller"),
    ],
)
def test_bad_parameters_get_a_typed_400_naming_them(
    server: Server, params: dict[str, str], named: str
) -> None:
    response = picture(server, **params)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert named in error["message"]


@pytest.fixture(scope="module")
def closed_server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("map-svg-closed") / "serve.log"
    yield from start_server(postgres_dsn, log, FRONTLINE_OPEN_READS="false")


def test_with_closed_reads_the_picture_needs_a_reader_key(closed_server: Server) -> None:
    refused = picture(closed_server, asOf=ON_6_DEC)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    allowed = picture(closed_server, closed_server.reader_key, asOf=ON_6_DEC)
    assert allowed.status_code == 200
    assert "hama" in circles(allowed)


@pytest.mark.parametrize("params", [{"governorate": "\x00"}, {"controller": "a\x00"},
                                    {"governorate": "x" * 201}])  # fmt: skip
def test_text_parameters_with_nul_or_too_long_get_a_400(server: Server, params: dict) -> None:
    response = picture(server, **params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_keyed_picture_is_private_to_its_caller(server: Server) -> None:
    response = picture(server, server.reader_key)
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["vary"] == "Authorization"
