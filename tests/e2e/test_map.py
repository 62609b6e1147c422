"""The control map page (/map) in a real headless Chromium with no internet, against a real
server holding the bundled sample (tests/support/browser.py: every off-host request aborted
and recorded). States are read from the markers' data attributes (data-state,
data-controllers, data-flags, data-revised), which the page sets from what it draws, not from
pixels. Screenshots of each state go to test-artifacts/ (FRONTLINE_TEST_ARTIFACTS).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.browser import Watched, launched_browser, screenshot
from tests.support.sample_server import Server, start_server_on_a_thread

pytestmark = pytest.mark.slow

ARMY = "syrian-arab-army"
# The seed article's own words, as the sample records Jolani's video message.
JOLANI = "I ask God almighty that it be a conquest with no revenge"
MARKERS = "path.fl-place"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server_on_a_thread(postgres_dsn, tmp_path_factory.mktemp("map") / "serve.log")


@pytest.fixture(scope="module")
def closed_server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("map-closed") / "serve.log"
    yield from start_server_on_a_thread(postgres_dsn, log, FRONTLINE_OPEN_READS="false")


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    with launched_browser() as launched:
        yield launched


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport={"width": 1300, "height": 850}, accept_downloads=True)
    try:
        yield opened
    finally:
        opened.close()


def gql(
    server: Server, query: str, variables: dict[str, Any] | None = None, key: str | None = None
) -> Any:
    response = httpx.post(
        server.graphql,
        json={"query": query, "variables": variables or {}},
        headers=server.headers(key or server.reader_key),
        timeout=20,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def open_map(context: BrowserContext, url: str) -> tuple[Page, Watched]:
    page = context.new_page()
    watched = Watched(page)
    page.goto(url, wait_until="load")
    expect(page.locator("body")).to_have_attribute(
        "data-renders", re.compile(r"\d+"), timeout=TIMEOUT_MS
    )
    return page, watched


def marker(page: Page, slug: str) -> Any:
    return page.locator(f'{MARKERS}[data-slug="{slug}"]')


def control_map_count(server: Server, as_of: str | None, kinds: list[str] | None = None) -> int:
    """How many places controlMap pages through, as any client would count them."""
    count, after = 0, None
    where = {"kinds": kinds} if kinds else None
    while True:
        page = gql(
            server,
            "query($asOf: DateTime, $after: String, $where: PlaceFilter) {"
            " controlMap(first: 100, after: $after, asOf: $asOf, where: $where)"
            " { nodes { place { slug } } pageInfo { hasNextPage endCursor } } }",
            {"asOf": as_of, "after": after, "where": where},
        )["controlMap"]
        count += len(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return count
        after = page["pageInfo"]["endCursor"]


def move_slider_to(page: Page, day: date) -> None:
    """Drag the as-of slider to ``day`` (its first day is in data-first-day)."""
    slider = page.locator("#as-of-day")
    first = date.fromisoformat(str(slider.get_attribute("data-first-day")))
    slider.evaluate(
        "(el, v) => { el.value = String(v);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
        (day - first).days,
    )
    expect(page.locator("body")).to_have_attribute("data-as-of", f"{day.isoformat()}T23:59:59.000Z")


def test_the_page_and_everything_it_loads_come_from_this_server(server: Server) -> None:
    page = httpx.get(f"{server.url}/map", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/map/leaflet/leaflet.js" in assets
    for asset in assets:
        if asset.startswith("data:"):
            continue
        assert asset.startswith("/"), f"{asset} is not served by this app"
        assert httpx.get(f"{server.url}{asset}", timeout=10).status_code == 200, asset
    outlines = httpx.get(f"{server.url}/map/outlines.geojson", timeout=10)
    assert outlines.headers["content-type"] == "application/geo+json"
    names = {f["properties"]["name"] for f in outlines.json()["features"]}
    assert {"Syria", "Turkey", "Lebanon"} <= names
    again = httpx.get(
        f"{server.url}/map/outlines.geojson", headers={"If-None-Match": outlines.headers["etag"]}
    )
    assert again.status_code == 304
    assert httpx.get(f"{server.url}/map/secrets.js", timeout=10).status_code == 404


def test_the_map_loads_offline_with_one_marker_per_place(
    server: Server, context: BrowserContext
) -> None:
    page, watched = open_map(context, f"{server.url}/map")
    expect(page.locator(MARKERS)).to_have_count(control_map_count(server, None))
    expect(page.locator("path.country").first).to_be_attached()  # the offline outlines
    expect(page.locator("#legend")).to_contain_text("Hay'at Tahrir al-Sham")
    expect(page.locator("body")).to_have_attribute("data-live", "live")
    screenshot(page, "map-now.png")
    watched.remember_resources(page)
    assert watched.left_localhost == []
    assert watched.problems == []


def test_the_slider_shows_hama_held_by_the_army_on_1_dec_and_by_hts_on_6_dec(
    server: Server, context: BrowserContext
) -> None:
    page, watched = open_map(context, f"{server.url}/map")
    move_slider_to(page, date(2024, 12, 1))
    expect(marker(page, "hama")).to_have_attribute("data-controllers", ARMY)
    expect(marker(page, "hama")).to_have_attribute("data-state", "held")
    expect(page.locator(MARKERS)).to_have_count(control_map_count(server, "2024-12-01T23:59:59Z"))
    screenshot(page, "map-2024-12-01.png")

    move_slider_to(page, date(2024, 12, 6))
    expect(marker(page, "hama")).to_have_attribute("data-controllers", re.compile(r"\bhts\b"))
    assert ARMY not in str(marker(page, "hama").get_attribute("data-controllers"))
    screenshot(page, "map-2024-12-06.png")

    # One day on with the keyboard, as a user steps the slider.
    page.locator("#as-of-day").press("ArrowRight")
    expect(page.locator("body")).to_have_attribute("data-as-of", "2024-12-07T23:59:59.000Z")
    assert watched.problems == []


def test_play_replays_the_offensive_day_by_day(server: Server, context: BrowserContext) -> None:
    page, _ = open_map(context, f"{server.url}/map?asOf=2024-11-27T23:59:59.000Z")
    seen: list[str] = []
    page.locator("#play").click()
    expect(page.locator("#play")).to_contain_text("Pause")
    deadline = time.monotonic() + 20
    while len(seen) < 3 and time.monotonic() < deadline:
        now = page.locator("body").get_attribute("data-as-of")
        if now and (not seen or seen[-1] != now):
            seen.append(now)
        page.wait_for_timeout(100)
    page.locator("#play").click()  # pause
    days = [datetime.fromisoformat(s).date() for s in seen]
    assert len(days) >= 3, seen
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days)), seen
    expect(page.locator("#play")).to_contain_text("Play")


def _record_capture(server: Server, slug: str, by: str, occurred: str, key: str) -> dict[str, Any]:
    gql(
        server,
        "mutation($slug: String!) { registerPlace(input: {slug: $slug, name: $slug, kind: VILLAGE,"
        ' latitude: 35.3, longitude: 36.9, country: "Syria", governorate: "Hama"}) { position } }',
        {"slug": slug},
        server.writer_key,
    )
    return dict(
        gql(
            server,
            "mutation($slug: String!, $by: String!, $at: DateTime!, $key: String!) {"
            " recordCapture(incident: {occurredAt: $at, places: [$slug], idempotencyKey: $key,"
            ' sources: [{outlet: "Test wire"}]}, details: {by: [$by]})'
            " { id position recordedAt } }",
            {"slug": slug, "by": by, "at": occurred, "key": key},
            server.writer_key,
        )["recordCapture"]
    )


def _utc_input(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_the_known_at_selector_shows_the_earlier_belief_and_marks_what_changed(
    server: Server, context: BrowserContext
) -> None:
    recorded = _record_capture(
        server, "known-at-village", "hts", "2024-12-02T10:00:00Z", "map-known-1"
    )
    believed = datetime.fromisoformat(recorded["recordedAt"]) + timedelta(seconds=1)
    time.sleep(1.5)  # the retraction is recorded after the moment we will ask about
    gql(
        server,
        'mutation($id: ID!) { retract(correction: {incident: $id}, reason: "wrong village")'
        " { position } }",
        {"id": recorded["id"]},
        server.writer_key,
    )
    page, _ = open_map(context, f"{server.url}/map?asOf=2024-12-06T23:59:59.000Z")
    village = marker(page, "known-at-village")
    expect(village).to_have_attribute("data-state", "unknown")  # retracted: nothing known now

    page.locator("#known-at").fill(_utc_input(believed))
    expect(village).to_have_attribute("data-state", "held")  # as believed before the retraction
    expect(village).to_have_attribute("data-controllers", "hts")
    expect(village).to_have_attribute("data-revised", "true")
    assert marker(page, "hama").get_attribute("data-revised") == "false"
    screenshot(page, "map-known-at.png")

    page.locator("#known-now").click()
    expect(village).to_have_attribute("data-state", "unknown")


def test_clicking_hama_shows_its_holder_history_and_the_articles_quote(
    server: Server, context: BrowserContext
) -> None:
    page, _ = open_map(context, f"{server.url}/map?asOf=2024-12-06T23:59:59.000Z")
    marker(page, "hama").dispatch_event("click")
    details = page.locator("#details")
    expect(details.locator("h2")).to_have_text("Hama")
    expect(details.locator(".holder")).to_contain_text("Hay'at Tahrir al-Sham")
    expect(details.locator(".timeline li")).to_have_count(2)  # the army's, then HTS's
    expect(details.locator(".timeline")).to_contain_text("Syrian Arab Army")
    expect(details).to_contain_text(JOLANI)
    expect(details).to_contain_text("Abu Mohammed al-Jolani")
    expect(details.locator(".claim").first).to_be_visible()
    assert parse_qs(urlsplit(page.url).query)["place"] == ["hama"]
    screenshot(page, "map-hama.png")


def test_a_capture_recorded_while_the_page_is_open_reaches_it_live(
    server: Server, context: BrowserContext
) -> None:
    page, watched = open_map(context, f"{server.url}/map")
    expect(page.locator("body")).to_have_attribute("data-live", "live")
    renders = int(page.locator("body").get_attribute("data-renders") or 0)
    occurred = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    _record_capture(server, "live-village", "hts", occurred, "map-live-1")
    expect(marker(page, "live-village")).to_have_attribute("data-state", "held")
    expect(marker(page, "live-village")).to_have_attribute("data-controllers", "hts")
    assert int(page.locator("body").get_attribute("data-renders") or 0) > renders  # no reload
    assert watched.problems == []


VIEW = {
    "asOf": "2024-12-06T23:59:59.000Z",
    "knownAt": "2030-01-01T00:00:00.000Z",
    "at": "35.1300,36.7500,9",
    "layers": "changes",
    "window": "72",
    "place": "hama",
    "kind": "CITY",
}


def test_the_url_holds_the_view_and_a_link_shows_the_same_map(
    server: Server, context: BrowserContext
) -> None:
    url = f"{server.url}/map?" + "&".join(f"{k}={v}" for k, v in VIEW.items())
    page, _ = open_map(context, url)
    expect(page.locator("#details h2")).to_have_text("Hama")
    expect(page.locator("#changes")).to_contain_text("Hama")
    held = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert held == VIEW
    assert page.locator("#f-kind").input_value() == "CITY"
    assert page.locator("#l-changes").is_checked()
    states = _marker_states(page)
    assert states
    assert all(kind == "city" for kind, *_ in states.values())

    again, _ = open_map(context, page.url)
    expect(again.locator("#details h2")).to_have_text("Hama")
    assert _marker_states(again) == states
    assert {k: v[0] for k, v in parse_qs(urlsplit(again.url).query).items()} == VIEW


def _marker_states(page: Page) -> dict[str, tuple[str, ...]]:
    rows = page.evaluate(
        "[...document.querySelectorAll('path.fl-place')].map(e => [e.dataset.slug, e.dataset.kind,"
        " e.dataset.state, e.dataset.controllers, e.dataset.flags])"
    )
    return {slug: tuple(rest) for slug, *rest in rows}


def test_the_changes_layer_lists_who_took_what_from_whom(
    server: Server, context: BrowserContext
) -> None:
    page, _ = open_map(context, f"{server.url}/map?asOf=2024-12-06T23:59:59.000Z")
    page.locator("#l-window").select_option("72")
    page.locator("#l-changes").check()
    hama = page.locator('#changes .change[data-slug="hama"]')
    expect(hama).to_contain_text("Syrian Arab Army → Hay'at Tahrir al-Sham")
    expect(marker(page, "hama")).to_have_attribute("data-changed", "true")
    expect(page.locator(".fl-change-halo")).to_have_count(page.locator("#changes .change").count())
    screenshot(page, "map-changes.png")

    page.locator("#l-changes").uncheck()
    expect(page.locator("#changes")).to_be_hidden()
    expect(page.locator(".fl-change-halo")).to_have_count(0)
    expect(page.locator(f"{MARKERS}[data-changed]")).to_have_count(0)


def test_filters_and_search_narrow_the_map(server: Server, context: BrowserContext) -> None:
    page, _ = open_map(context, f"{server.url}/map?asOf=2024-12-06T23:59:59.000Z")
    page.locator("#f-kind").select_option("CITY")
    expect(page.locator(MARKERS)).to_have_count(
        control_map_count(server, "2024-12-06T23:59:59Z", ["CITY"])
    )
    page.locator("#f-kind").select_option("")
    page.locator("#f-actor").select_option("hts")
    expect(page.locator(f'{MARKERS}:not([data-controllers~="hts"])')).to_have_count(0)
    page.locator("#f-actor").select_option("")

    page.locator("#search").fill("Hamah")  # an alias
    found = page.locator('#found li[data-slug="hama"]')
    expect(found).to_be_visible()
    found.click()
    expect(page.locator("#details h2")).to_have_text("Hama")


def test_the_view_downloads_as_geojson_and_as_png(
    server: Server, context: BrowserContext, tmp_path: Path
) -> None:
    page, watched = open_map(context, f"{server.url}/map?asOf=2024-12-06T23:59:59.000Z")
    with page.expect_download() as geojson:
        page.locator("#dl-geojson").click()
    features = json.loads(Path(geojson.value.path()).read_text())["features"]
    assert len(features) == page.locator(MARKERS).count()
    assert {f["id"] for f in features} >= {"hama", "aleppo"}

    with page.expect_download() as png:
        page.locator("#dl-png").click()
    picture = Path(png.value.path()).read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "map.png").write_bytes(picture)

    with page.expect_download() as svg:
        page.locator("#dl-svg").click()
    drawn = Path(svg.value.path()).read_text()
    assert drawn.startswith("<svg")
    assert "As of 2024-12-06 23:59 UTC" in drawn
    assert watched.problems == []


@pytest.mark.parametrize("with_key", [True, False], ids=["reader key", "no key"])
def test_with_closed_reads_the_page_asks_for_a_key(
    closed_server: Server, context: BrowserContext, with_key: bool
) -> None:
    page = context.new_page()
    page.goto(f"{closed_server.url}/map", wait_until="load")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT_MS)
    page.locator("#key").fill(closed_server.reader_key if with_key else "")
    dialog.locator("button").click()
    if with_key:
        expect(marker(page, "hama")).to_be_attached(timeout=TIMEOUT_MS)
        expect(page.locator("body")).to_have_attribute("data-live", "live")
    else:
        expect(page.locator("#status")).to_contain_text("API key", timeout=TIMEOUT_MS)
        assert page.locator(MARKERS).count() == 0


def _fill(page: Page, slug: str) -> str:
    return str(marker(page, slug).get_attribute("fill")).upper()


def test_markers_take_their_holders_colours_and_a_new_colour_arrives_live(
    server: Server, context: BrowserContext
) -> None:
    page, _ = open_map(context, f"{server.url}/map?asOf=2024-12-01T23:59:59.000Z")
    army = gql(server, '{ actor(ref: "syrian-arab-army") { name kind side color } }')["actor"]
    expect(marker(page, "hama")).to_have_attribute("data-controllers", ARMY)
    assert _fill(page, "hama") == army["color"]
    legend = page.locator(f'#legend .legend-row[data-actor="{ARMY}"] circle')
    assert str(legend.get_attribute("fill")).upper() == army["color"]

    gql(
        server,
        'mutation($name: String!, $side: String) { registerActor(input: {slug: "syrian-arab-army",'
        ' name: $name, kind: STATE_FORCE, side: $side, color: "#000000"}) { replayed } }',
        {"name": army["name"], "side": army["side"]},
        server.writer_key,
    )
    expect(marker(page, "hama")).to_have_attribute("fill", "#000000")  # live, no reload
    gql(
        server,
        "mutation($name: String!, $side: String, $color: String) { registerActor(input: {slug:"
        ' "syrian-arab-army", name: $name, kind: STATE_FORCE, side: $side, color: $color})'
        " { replayed } }",
        {"name": army["name"], "side": army["side"], "color": army["color"]},
        server.writer_key,
    )
    expect(marker(page, "hama")).to_have_attribute("fill", army["color"])


def test_hostile_names_are_shown_as_text(server: Server, context: BrowserContext) -> None:
    hostile = '<img src=x onerror="document.body.dataset.pwned=1">'
    gql(
        server,
        'mutation($name: String!) { registerActor(input: {slug: "hostile-militia", name: $name,'
        " kind: ARMED_GROUP}) { position } }",
        {"name": hostile},
        server.writer_key,
    )
    gql(
        server,
        'mutation($name: String!) { registerPlace(input: {slug: "hostile-village", name: $name,'
        ' kind: VILLAGE, latitude: 35.6, longitude: 36.4, country: "Syria"}) { position } }',
        {"name": hostile},
        server.writer_key,
    )
    gql(
        server,
        'mutation { recordCapture(incident: {occurredAt: "2024-12-03T10:00:00Z",'
        ' places: ["hostile-village"], idempotencyKey: "map-hostile-1", sources: [{outlet:'
        ' "<script>alert(1)</script>", quote: "</blockquote><img src=x>"}]},'
        ' details: {by: ["hostile-militia"]}) { position } }',
        key=server.writer_key,
    )
    page, watched = open_map(
        context, f"{server.url}/map?asOf=2024-12-06T23:59:59.000Z&place=hostile-village"
    )
    expect(page.locator("#details h2")).to_have_text(hostile)
    expect(page.locator("#legend")).to_contain_text(hostile)
    expect(page.locator("#details blockquote")).to_have_text("</blockquote><img src=x>")
    assert page.locator("#side img").count() == 0
    assert page.locator("body").get_attribute("data-pwned") is None
    assert watched.problems == []

    svg = httpx.get(f"{server.url}/map.svg", params={"asOf": "2024-12-06T23:59:59Z"}, timeout=20)
    assert svg.status_code == 200
    assert "<img" not in svg.text
    assert "&lt;img src=x" in svg.text


def test_a_link_with_nonsense_in_it_still_opens_the_map(
    server: Server, context: BrowserContext
) -> None:
    page, watched = open_map(context, f"{server.url}/map?asOf=yesterday&knownAt=soon&at=1,2,x")
    expect(page.locator(MARKERS)).to_have_count(control_map_count(server, None))
    held = parse_qs(urlsplit(page.url).query)
    assert "asOf" not in held
    assert "knownAt" not in held
    assert watched.problems == []


def test_a_large_map_is_painted_on_a_canvas_and_still_answers_a_click(
    server: Server, context: BrowserContext
) -> None:
    """Past 2,000 places the page paints on a canvas (``renderer=canvas`` asks for it on the
    sample): no marker elements, the same states (``Frontline.markerState``), and a click on
    a place still opens it."""
    page, watched = open_map(
        context, f"{server.url}/map?asOf=2024-12-06T23:59:59.000Z&renderer=canvas"
    )
    expect(page.locator("body")).to_have_attribute("data-renderer", "canvas")
    assert page.locator(MARKERS).count() == 0
    expect(page.locator(".leaflet-overlay-pane canvas")).to_have_count(1)
    total = control_map_count(server, "2024-12-06T23:59:59Z")
    assert page.locator("body").get_attribute("data-markers") == str(total)
    hama = page.evaluate("window.Frontline.markerState('hama')")
    assert "hts" in hama["controllers"]
    assert hama["state"] == "held"
    aleppo = gql(server, '{ place(ref: "aleppo") { latitude longitude } }')["place"]
    point = page.evaluate(
        "([lat, lon]) => { const p = window.Frontline.map.latLngToContainerPoint([lat, lon]);"
        " const r = document.getElementById('map').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [aleppo["latitude"], aleppo["longitude"]],
    )
    page.mouse.click(point[0], point[1])
    expect(page.locator("#details h2")).to_have_text("Aleppo")
    assert parse_qs(urlsplit(page.url).query)["renderer"] == ["canvas"]
    screenshot(page, "map-canvas.png")
    assert watched.problems == []
