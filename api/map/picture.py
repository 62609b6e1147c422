"""GET /map.svg: the control map as a picture, drawn on the server (api.map.svg).

``?asOf=…&knownAt=…&bbox=west,south,east,north&width=…&height=…`` and the map's filters
(``governorate``, ``kind``, ``controller``). It reads what ``controlMapGeoJson`` reads, with
the same rule for keys: with closed reads, a reader key in ``Authorization``. Bounded like any
request (size of the picture, places drawn, the request deadline and statement timeout).
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.access import refusal, request_principal
from api.colors import PALETTE
from api.graphql.scalars import EARLIEST, LATEST
from api.map.outlines import outlines
from api.map.svg import Frame, render
from domain.vocabulary import PlaceKind
from readmodel import queries as q
from readmodel.connections import DATABASE_DOWN

DEFAULT_SIZE: Final = (1000, 700)
MIN_SIDE, MAX_SIDE = 100, 4000
#: Places drawn at most (the first by name; the date line says there were more): the
#: statement builds no more, and drawing them takes ~0.15 s of a core.
MAX_PLACES: Final = 20_000
#: Pictures drawn at once in a process; more wait their turn within the request's deadline.
#: Drawing runs off the event loop, so other requests are served meanwhile.
MAX_DRAWING: Final = 2
_DRAWING = asyncio.Semaphore(MAX_DRAWING)
_PIXELS: Final = re.compile(r"[0-9]{1,5}")
#: The map's GeoJSON text read for a picture at most (20,000 places with long names and a
#: few holders each stay well below); past it the picture is refused before it is parsed.
MAX_MAP_BYTES: Final = 32 * 1024 * 1024
#: A text parameter (governorate, controller) at most.
MAX_TEXT: Final = 200
MAX_KINDS: Final = len(PlaceKind)
#: Around the places when no bbox is asked for: a tenth of their extent, at least 0.25°.
_PAD: Final = 0.1
_MIN_PAD_DEGREES: Final = 0.25
HEADERS: Final = {
    # An SVG opened on its own is a document: nothing in it may run or load.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "private, no-cache",
    "Vary": "Authorization",
}


class BadParameter(ValueError):
    """A query parameter /map.svg cannot use; the message names it."""


@dataclass(frozen=True, slots=True)
class PictureRequest:
    as_of: datetime | None
    known_at: datetime | None
    bbox: tuple[float, float, float, float] | None  # west, south, east, north
    width: int
    height: int
    governorate: str | None
    kinds: tuple[str, ...] | None
    controller: str | None


def parse(params: Any) -> PictureRequest:
    """The request's parameters, checked; BadParameter names the first that is wrong."""
    return PictureRequest(
        as_of=_instant(params.get("asOf"), "asOf"),
        known_at=_instant(params.get("knownAt"), "knownAt"),
        bbox=_bbox(params.get("bbox")),
        width=_side(params.get("width"), "width", DEFAULT_SIZE[0]),
        height=_side(params.get("height"), "height", DEFAULT_SIZE[1]),
        governorate=_text(params.get("governorate"), "governorate"),
        kinds=_kinds(params.get("kind")),
        controller=_text(params.get("controller"), "controller"),
    )


def _instant(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(
            f"{name} must be an ISO 8601 instant, e.g. 2024-12-06T12:00:00Z"
        ) from None
    if found.tzinfo is None:
        raise BadParameter(f"{name} must say its time zone (Z or +03:00)")
    # The API's own range (read on the wall clock the time gives), so a caption can be
    # written for any instant let through.
    if not EARLIEST <= found.replace(tzinfo=None) <= LATEST:
        raise BadParameter(f"{name} must lie between {EARLIEST.year} and {LATEST.year}")
    return found


def _text(value: str | None, name: str) -> str | None:
    if not value:
        return None
    if len(value) > MAX_TEXT or not value.isprintable():
        raise BadParameter(f"{name} must be at most {MAX_TEXT} printable characters")
    return value


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise BadParameter("bbox must be four numbers: west,south,east,north") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise BadParameter("bbox must be four finite numbers")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise BadParameter("bbox must have west < east within ±180 and south < north within ±90")
    return west, south, east, north


def _side(text: str | None, name: str, default: int) -> int:
    if not text:
        return default
    if not _PIXELS.fullmatch(text) or not MIN_SIDE <= int(text) <= MAX_SIDE:
        raise BadParameter(f"{name} must be a whole number of pixels from {MIN_SIDE} to {MAX_SIDE}")
    return int(text)


def _kinds(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    names = [k.strip().lower() for k in text.split(",") if k.strip()]
    known = {k.value for k in PlaceKind}
    if len(names) > MAX_KINDS or not set(names) <= known:
        raise BadParameter(f"kind must be one or more of {', '.join(sorted(known))}")
    return tuple(names)


async def map_svg(request: Request) -> Response:  # noqa: PLR0911 - a refusal per cause
    """The picture, or a typed error (400 for a bad parameter, 401 for a missing key)."""
    resources = request.state.resources
    try:
        wanted = parse(request.query_params)
    except BadParameter as exc:
        return refusal(400, "BAD_USER_INPUT", str(exc))
    try:
        principal = await request_principal(request, resources.pool)
        if principal is None and not resources.settings.open_reads:
            return refusal(401, "UNAUTHENTICATED", "an API key is required to read")
        # The turn is taken before the map is read and given back when its drawing ends
        # (not when the request does: a thread cannot be stopped), so at most MAX_DRAWING
        # reads and drawings run at once, whoever hangs up.
        await _DRAWING.acquire()
        released = False
        try:
            text = await _map(resources.pool, wanted)
            if len(text) > MAX_MAP_BYTES:
                return refusal(
                    413,
                    "RESPONSE_TOO_LARGE",
                    "the map is too large to draw; narrow bbox or filters",
                )
            drawing = asyncio.get_running_loop().run_in_executor(None, _draw, text, wanted)
            drawing.add_done_callback(lambda _: _DRAWING.release())
            released = True
            svg = await asyncio.shield(drawing)
        finally:
            if not released:
                _DRAWING.release()
    except DATABASE_DOWN:
        return refusal(503, "UNAVAILABLE", "the database is unavailable; retry shortly")
    except asyncpg.QueryCanceledError:
        return refusal(503, "TIMEOUT", "the map took too long to read; narrow bbox or filters")
    except LookupError as exc:
        return refusal(400, "BAD_USER_INPUT", str(exc))
    return Response(svg, media_type="image/svg+xml", headers=HEADERS)


def _draw(text: str, wanted: PictureRequest) -> str:
    features: list[dict[str, Any]] = orjson.loads(text)["features"]
    shown = features[:MAX_PLACES]
    return render(
        shown, outlines(), _frame(wanted, shown), _caption(wanted),
        more=len(features) > len(shown),
    )  # fmt: skip


async def _map(pool: Any, wanted: PictureRequest) -> str:
    """The map's GeoJSON text, one place more than is drawn (to say there were more)."""
    filters: dict[str, Any] = {"governorate": wanted.governorate, "kinds": wanted.kinds}
    if wanted.bbox is not None:
        west, south, east, north = wanted.bbox
        filters["bbox"] = (south, west, north, east)
    async with pool.acquire() as conn:
        if wanted.controller is not None:
            actor = await q.get_actor_by_slug(conn, wanted.controller)
            if actor is None:
                raise LookupError(f"controller: no actor {wanted.controller[:80]!r}")
            filters["controller"] = actor.id
        text: str = await q.control_map_geojson(
            conn, wanted.as_of or datetime.now(UTC), wanted.known_at, palette=PALETTE,
            limit=MAX_PLACES + 1, **filters,
        )  # fmt: skip
    return text


def _frame(wanted: PictureRequest, features: list[dict[str, Any]]) -> Frame:
    if wanted.bbox is not None:
        west, south, east, north = wanted.bbox
    elif features:
        lons = [f["geometry"]["coordinates"][0] for f in features]
        lats = [f["geometry"]["coordinates"][1] for f in features]
        pad_x = max((max(lons) - min(lons)) * _PAD, _MIN_PAD_DEGREES)
        pad_y = max((max(lats) - min(lats)) * _PAD, _MIN_PAD_DEGREES)
        west, east = max(min(lons) - pad_x, -180), min(max(lons) + pad_x, 180)
        south, north = max(min(lats) - pad_y, -85), min(max(lats) + pad_y, 85)
    else:
        west, south, east, north = -180.0, -60.0, 180.0, 80.0
    return Frame(west, south, east, north, wanted.width, wanted.height)


def _caption(wanted: PictureRequest) -> str:
    as_of = (wanted.as_of or datetime.now(UTC)).astimezone(UTC)
    line = f"As of {as_of:%Y-%m-%d %H:%M} UTC"
    if wanted.known_at is not None:
        line += f", as known at {wanted.known_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return line
