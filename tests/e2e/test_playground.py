"""The offline playground: GraphiQL on GET /graphql, in a real headless Chromium, no internet
(tests/support/browser.py: Debian's Chromium, every request off localhost aborted and
recorded, so a CDN reference fails the test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from graphql import OperationType, parse, validate
from playwright.sync_api import Browser, Page, expect

from api.graphql.schema import schema
from api.playground import ASSETS_URL, EXAMPLES
from tests.support.browser import Watched, launched_browser, screenshot
from tests.support.sample_server import Server, start_server_on_a_thread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_browser() as launched:
        yield launched


def post(server: Server, query: str) -> dict:
    response = httpx.post(server.graphql, json={"query": query}, timeout=10)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_a_browser_gets_the_playground_and_every_asset_is_served_locally(server: Server) -> None:
    page = httpx.get(server.graphql, headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert f"{ASSETS_URL}/graphiql.min.js" in assets
    for asset in assets:
        if asset.startswith("data:"):
            continue
        assert asset.startswith("/"), f"{asset} is not served by this app"
        fetched = httpx.get(f"{server.url}{asset}", timeout=10)
        assert fetched.status_code == 200, asset
        assert fetched.content


def test_api_clients_still_get_json_on_get_and_post(server: Server) -> None:
    by_get = httpx.get(
        server.graphql,
        params={"query": '{ place(ref: "hama") { slug } }'},
        headers={"Accept": "text/html,application/json"},
        timeout=10,
    )
    assert by_get.json() == {"data": {"place": {"slug": "hama"}}}
    assert post(server, "{ __typename }") == {"__typename": "Query"}
    no_query = httpx.get(server.graphql, headers={"Accept": "application/json"}, timeout=10)
    assert not no_query.headers.get("content-type", "").startswith("text/html")


def test_the_example_tabs_run_against_the_sample(server: Server) -> None:
    queries = {e.name: e.query for e in EXAMPLES}
    now = post(server, queries["Who holds Hama now"])["controlAt"]
    assert now["status"] == "HELD"
    assert "hts" in {a["slug"] for a in now["controllers"]}
    assert all(e["sources"] for e in now["evidence"])

    on_1_dec = post(server, queries["Control map, 1 Dec 2024"])["controlMap"]["nodes"]
    states = {n["place"]["slug"]: n["state"] for n in on_1_dec}
    assert states["aleppo"]["status"] == "HELD"  # taken on 1 December
    assert "hts" not in {a["slug"] for a in states["hama"]["controllers"]}

    believed = post(server, queries["What was believed on 4 Dec"])
    assert believed["onDec4"]["status"] == "HELD"
    assert "hts" not in {a["slug"] for a in believed["onDec4"]["controllers"]}
    assert believed["believedOnDec4"] is None  # the sample was recorded after 2024


def test_the_subscription_tab_is_valid_graphql() -> None:
    documents = [parse(e.query) for e in EXAMPLES]
    subscriptions = [
        d
        for d in documents
        if any(getattr(o, "operation", None) == OperationType.SUBSCRIPTION for o in d.definitions)
    ]
    assert len(subscriptions) == 1
    if schema.subscription is not None:  # else the subscription field has not landed yet
        assert validate(schema._schema, subscriptions[0]) == []


def test_graphiql_runs_the_default_query_in_chromium_without_internet(
    server: Server, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page: Page = context.new_page()
        watched = Watched(page)
        page.goto(server.graphql, wait_until="load")
        expect(page.locator(".graphiql-container")).to_be_visible(timeout=20_000)
        expect(page.locator(".graphiql-tab")).to_have_count(len(EXAMPLES))
        expect(page.locator(".graphiql-query-editor")).to_contain_text("WhoHoldsHamaNow")

        page.locator(".graphiql-execute-button").click()
        response = page.locator(".graphiql-response")
        expect(response).to_contain_text('"HELD"', timeout=20_000)
        expect(response).to_contain_text('"hts"')
        screenshot(page, "playground.png")
        watched.remember_resources(page)
    finally:
        context.close()

    assert watched.left_localhost == [], "the playground reached beyond this server"
    assert watched.problems == []


@pytest.fixture(scope="module")
def closed_server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("playground-closed") / "serve.log"
    yield from start_server_on_a_thread(postgres_dsn, log, FRONTLINE_OPEN_READS="false")


@pytest.mark.parametrize("with_key", [True, False], ids=["reader key", "no key"])
def test_with_closed_reads_the_playground_works_with_a_reader_key_only(
    closed_server: Server, browser: Browser, with_key: bool
) -> None:
    """The page loads for anyone; what it sends needs the key (here as the header the
    Headers editor would add to every request)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    if with_key:
        context.set_extra_http_headers(closed_server.headers(closed_server.reader_key))
    try:
        page = context.new_page()
        page.goto(closed_server.graphql, wait_until="load")
        expect(page.locator(".graphiql-container")).to_be_visible(timeout=20_000)
        page.locator(".graphiql-execute-button").click()
        response = page.locator(".graphiql-response")
        if with_key:
            expect(response).to_contain_text('"HELD"', timeout=20_000)
        else:
            expect(response).to_contain_text("UNAUTHENTICATED", timeout=20_000)
            expect(response).not_to_contain_text('"HELD"')
    finally:
        context.close()
