"""GET /map: the control map page, its script and style, Leaflet's files and the outlines.

The page is a client of the public GraphQL API only: everything it shows it asks /graphql
for, as any other client would (with a key the user types in when reads are closed). What
this module serves is static: the page, our script, Leaflet's own build from the installed
``xstatic-leaflet`` wheel, and the country outlines (``api.map.outlines``). Like the
playground, the page's Content-Security-Policy allows this origin only (plus the tile server
when ``FRONTLINE_TILE_URL`` names one), so nothing leaves the host unless the operator said so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import cache
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.map.outlines import outlines_geojson
from api.policy import content_security_policy

LEAFLET_URL: Final = "/map/leaflet"
STYLE_URL: Final = "/map/map.css"
OUTLINES_URL: Final = "/map/outlines.geojson"


@cache
def leaflet_directory() -> Path:
    """Leaflet's build inside the installed wheel (a namespace package: xstatic.pkg.leaflet)."""
    path = Path(str(files("xstatic.pkg.leaflet") / "data"))
    if not (path / "leaflet.js").is_file():
        raise RuntimeError(f"xstatic-leaflet is installed without leaflet.js at {path}")
    return path


def tile_origin(tile_url: str | None) -> str | None:
    """The origin a tile URL template loads from, for the page's CSP (None: offline). A
    ``{s}`` (Leaflet's subdomains) may only be the host's first label, so the origin is a
    valid CSP source (``https://*.tile.example.org``)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or not host
        or parts.username is not None
        or "{s}" in host.replace("{s}.", "", 1)
        or ("{s}" in host and not host.startswith("{s}."))
    ):
        raise ValueError(
            "FRONTLINE_TILE_URL must be an http(s) URL template with no user name, {s} only "
            f"as the host's first label, e.g. https://{{s}}.tile.example.org/{{z}}/{{x}}/{{y}}.png;"
            f" not {tile_url[:200]!r}"
        )
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host.replace('{s}', '*', 1)}{port}"


def page_policy(tile_url: str | None) -> str:
    """This origin only; images also as data: and blob: (the PNG the page draws from
    /map.svg) and from the tile server when one is configured."""
    tiles = tile_origin(tile_url)
    return content_security_policy(("data:", "blob:", *([tiles] if tiles else [])))


def _text(name: str) -> str:
    return (files("api.map") / name).read_text(encoding="utf-8")


@cache
def _page(tile_url: str | None) -> str:
    config = json.dumps({"graphql": "/graphql", "tileUrl": tile_url or None})
    return Template(_text("map.html")).substitute(
        leaflet=LEAFLET_URL,
        style=STYLE_URL,
        # Inside <script type="application/json">: "<" can't end or alter the element.
        config=config.replace("<", "\\u003c"),
    )


@cache
def _outlines() -> tuple[bytes, str]:
    body = outlines_geojson()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def page(tile_url: str | None) -> Callable[[Request], Awaitable[Response]]:
    """The page itself, bound to the tile server setting."""
    headers = {
        "Content-Security-Policy": page_policy(tile_url),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }

    async def serve(_request: Request) -> Response:
        return HTMLResponse(_page(tile_url or None), headers=headers)

    return serve


#: The page's own scripts, by the name they are served under (nothing else is).
SCRIPTS: Final = ("graphql.js", "markers.js", "map.js")


async def script(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in SCRIPTS:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": "no-cache"}
    return Response(_text(name), media_type="text/javascript", headers=headers)


async def style(_request: Request) -> Response:
    headers = {"Cache-Control": "no-cache"}
    return Response(_text("map.css"), media_type="text/css", headers=headers)


async def outlines(request: Request) -> Response:
    """The outlines, with an ETag: the same bytes for as long as the wheel is the same."""
    body, etag = _outlines()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/geo+json", headers=headers)


def routes(tile_url: str | None) -> list[BaseRoute]:
    """GET /map and what it loads."""
    return [
        Route("/map", page(tile_url), methods=["GET"]),
        Route(STYLE_URL, style, methods=["GET"]),
        Route(OUTLINES_URL, outlines, methods=["GET"]),
        Mount(LEAFLET_URL, app=StaticFiles(directory=leaflet_directory()), name="leaflet"),
        # Last: any other /map/<name> is one of SCRIPTS or a 404.
        Route("/map/{name:str}", script, methods=["GET"]),
    ]
