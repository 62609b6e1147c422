"""The map page (/map) in headless Chromium, for `make bench`: first paint, and one step of
the date slider (a new controlMapGeoJson fetched and drawn), beside the statement that map
runs through asyncpg (the raw-PostgreSQL baseline), in the same run.

``measure`` makes a database of its own holding ``places`` places, serves it with `frontline
serve` and drives the page from a separate process (``python -m bench.map_page SPEC``, so
Playwright's loop and the server share nothing). The page times itself: ``data-first-paint-ms``
(navigation start to the first map drawn: Leaflet, outlines, slider range, actors, map) and
``data-last-render-ms`` (a step: the query and the markers' update). Last, live: with the
page on "now", a capture is recorded over HTTP and the time until its marker shows the new
holder is taken (the mutation, the log's notification, the subscription, the redraw).
Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from api.auth import Role, create_key
from api.colors import PALETTE
from bench.browser import CHROMIUM_ARGS, chromium
from bench.control_queries import drop_database, fresh_database
from bench.processes import clean_env, served
from bench.synthetic import SPAN, START, History, actor_slugs, place_slugs
from domain.application import Frontline
from frontline.database import eventsourcing_env
from readmodel.projector import catch_up
from readmodel.queries import control_map_geojson

RENDER_TIMEOUT_MS = 60_000
ACTORS = 36  # as bench.run's plans
LIVE_CAPTURES = 5  # per run
LIVE_GAP_MS = 1000
CAPTURE = """mutation ($incident: IncidentInput!, $details: CaptureInput!) {
  recordCapture(incident: $incident, details: $details) { position }
}"""


def measure(admin: str, places: int, steps: int, runs: int, log: Path) -> dict[str, Any]:
    """First paint and slider steps (ms, p50/p95) on ``places`` places, and the baseline."""
    if chromium() is None:
        return {"skipped": "no Chromium (Debian's package chromium, or $CHROMIUM)"}
    dsn = asyncio.run(fresh_database(admin))
    try:
        _record(dsn, places)
        key = asyncio.run(_writer_key(dsn))
        env = clean_env(
            DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="false", FRONTLINE_ACCESS_LOG="false"
        )
        days = _days(steps)
        with served(["-m", "frontline", "serve", "--port"], env, log, "/healthz") as (url, _):
            spec = {
                "url": url, "days": [d.isoformat() for d in days], "runs": runs, "key": key,
                "places": places,
            }  # fmt: skip
            done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "bench.map_page", json.dumps(spec)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"the map page's run failed:\n{done.stderr[-4000:]}")
            page: dict[str, Any] = json.loads(done.stdout)
        page["baseline"] = asyncio.run(_statement_ms(dsn, days, runs))
        return page
    finally:
        asyncio.run(drop_database(admin, dsn))


def _record(dsn: str, places: int) -> None:
    """A history with three incidents a place, projected."""
    history = History(places * 3, places=places, actors=ACTORS)
    app = Frontline(env=eventsourcing_env(dsn))
    try:
        app.execute_batch(history.setup())
        for batch in history.batches(1000):
            app.execute_batch(batch)
    finally:
        app.close()

    async def project() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await catch_up(conn, limit=1000)
        finally:
            await conn.close()

    asyncio.run(project())


async def _writer_key(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return await create_key(conn, "bench map writer", Role.WRITER)
    finally:
        await conn.close()


def _days(steps: int) -> list[date]:
    rng = random.Random(5)  # noqa: S311 - reproducible sampling
    return [(START + SPAN * rng.random()).date() for _ in range(steps)]


async def _statement_ms(dsn: str, days: list[date], runs: int) -> dict[str, float]:
    """The map's own statement for each step's instant, through asyncpg (text, as served)."""
    conn = await asyncpg.connect(dsn)
    try:
        timings = []
        for _ in range(runs):
            for day in days:
                at = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
                start = time.perf_counter()
                await control_map_geojson(conn, at, palette=PALETTE)
                timings.append((time.perf_counter() - start) * 1000)
        return _summary(timings)
    finally:
        await conn.close()


def _summary(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50_ms": values[0], "p95_ms": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": statistics.median(values), "p95_ms": cuts[94]}


# ---------------------------------------------------------------- the browser's side


def browse(spec: dict[str, Any]) -> dict[str, Any]:
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415 - this process only

    days = [date.fromisoformat(d) for d in spec["days"]]
    first_paint, steps, fetches, observed, markers = [], [], [], [], 0
    live: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=list(CHROMIUM_ARGS))
        try:
            for _ in range(spec["runs"]):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.goto(f"{spec['url']}/map?asOf={days[0].isoformat()}T23:59:59.000Z")
                body = page.locator("body")
                expect(body).to_have_attribute(
                    "data-first-paint-ms", _digits(), timeout=RENDER_TIMEOUT_MS
                )
                first_paint.append(float(body.get_attribute("data-first-paint-ms") or 0))
                markers = int(body.get_attribute("data-markers") or 0)
                slider = page.locator("#as-of-day")
                first = date.fromisoformat(str(slider.get_attribute("data-first-day")))
                for day in days[1:]:
                    start = time.perf_counter()
                    slider.evaluate(
                        "(el, v) => { el.value = String(v);"
                        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
                        (day - first).days,
                    )
                    expect(body).to_have_attribute(
                        "data-as-of", f"{day.isoformat()}T23:59:59.000Z", timeout=RENDER_TIMEOUT_MS
                    )
                    observed.append((time.perf_counter() - start) * 1000)
                    steps.append(float(body.get_attribute("data-last-render-ms") or 0))
                    fetches.append(float(body.get_attribute("data-last-fetch-ms") or 0))
                live += _live(page, spec, len(live))
                context.close()
        finally:
            browser.close()
    return {
        "markers": markers,
        "first_paint": _summary(first_paint),
        "step": _summary(steps),
        "step_fetch": _summary(fetches),
        "step_observed": _summary(observed),
        "live": _summary(live),
    }


def _live(page: Any, spec: dict[str, Any], done: int) -> list[float]:
    """With the page on "now": record captures one by one, each of a place by an actor that
    does not hold it, and time until the place's marker names its new holder."""
    from playwright.sync_api import expect  # noqa: PLC0415

    page.goto(f"{spec['url']}/map")
    body = page.locator("body")
    expect(body).to_have_attribute("data-live", "live", timeout=RENDER_TIMEOUT_MS)
    expect(body).to_have_attribute("data-renders", _digits(), timeout=RENDER_TIMEOUT_MS)
    places, actors = place_slugs(spec["places"]), actor_slugs(ACTORS)
    took: list[float] = []
    headers = {"Authorization": f"Bearer {spec['key']}"}
    for n in range(done, done + LIVE_CAPTURES):
        place = places[n * 7 % len(places)]
        holders = _holders(page, place)
        actor = next(a for a in actors if a not in holders)
        incident = {
            "occurredAt": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "places": [place], "sources": [{"outlet": "bench"}], "idempotencyKey": f"live-{n}",
        }  # fmt: skip
        # Apart, as incidents arrive: the page redraws at most twice a second, so captures
        # back to back would time its throttle, not the path.
        page.wait_for_timeout(LIVE_GAP_MS)
        start = time.perf_counter()
        variables = {"incident": incident, "details": {"by": [actor]}}
        answer = httpx.post(
            f"{spec['url']}/graphql", headers=headers, timeout=30,
            json={"query": CAPTURE, "variables": variables},
        )  # fmt: skip
        if answer.json().get("errors"):
            raise RuntimeError(f"the capture was refused: {answer.text[:500]}")
        deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
        while _holders(page, place) != [actor]:  # a canvas at 10,000 places: ask the page
            if time.monotonic() > deadline:
                raise RuntimeError(f"{place} never showed {actor} as its holder")
            time.sleep(0.005)
        took.append((time.perf_counter() - start) * 1000)
    return took


def _holders(page: Any, slug: str) -> list[str]:
    found: list[str] = page.evaluate("(s) => window.Frontline.markerState(s).controllers", slug)
    return found


def _digits() -> re.Pattern[str]:
    return re.compile(r"^\d+$")


if __name__ == "__main__":
    print(json.dumps(browse(json.loads(sys.argv[1]))))
