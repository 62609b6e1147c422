"""The offline playground: GraphiQL on GET /graphql, with every asset served by this app.

Strawberry's own IDE page loads GraphiQL from a CDN and is blank without internet, so the app
turns it off (`graphql_ide=None`) and serves this page instead. GraphiQL, React and graphql-ws
come from the installed wheel `graphene-django-graphiql-static` (plain static files; we import
none of its Django code); the page and its boot script are ours. The page's
Content-Security-Policy allows this origin only, so a stray CDN reference fails loudly in the
browser instead of quietly needing the internet.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.policy import content_security_policy

#: The wheel that ships GraphiQL's builds, and where inside it they lie.
ASSETS_PACKAGE: Final = "graphene_django_graphiql_static"
ASSETS_URL: Final = "/playground/static"
BOOT_URL: Final = "/playground/playground.js"

CONTENT_SECURITY_POLICY: Final = content_security_policy()


@dataclass(frozen=True, slots=True)
class Example:
    """One GraphiQL tab the page opens with."""

    name: str
    query: str


_STATE_FIELDS = """
fragment State on ControlState {
  status
  validFrom
  uncertain
  inferred
  disputed
  controllers { slug name }
}
"""

#: The seed article's questions, one tab each; the first is the page's default query.
EXAMPLES: Final = (
    Example(
        "Who holds Hama now",
        """\
# Who holds Hama now, and how do we know?
#
# controlAt: the state, who holds the place, the
# incidents it rests on (evidence) and the reports
# behind them (sources).
#
# Run: Ctrl-Enter or the ▶ button. More in other tabs.
# Writes need an API key: in Headers below, paste
#   {"Authorization": "Bearer <key>"}
query WhoHoldsHamaNow {
  controlAt(place: "hama") {
    status
    validFrom
    uncertain
    disputed
    controllers { slug name }
    evidence {
      kind
      occurredAt
      precision
      status
      summary
      sources { outlet channel role speaker quote }
    }
  }
}
""",
    ),
    Example(
        "Control map, 1 Dec 2024",
        """\
# Every place's state at noon (Damascus time) on
# 1 December 2024, as known now. Next page: pass
# after: pageInfo.endCursor. controlMapGeoJson gives
# the same map as GeoJSON (Leaflet, MapLibre, QGIS).
query ControlMapOn1Dec {
  controlMap(asOf: "2024-12-01T12:00:00+03:00", first: 50) {
    nodes {
      place { slug name kind governorate }
      state { status inferred uncertain disputed controllers { slug } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    ),
    Example(
        "What was believed on 4 Dec",
        """\
# Two time axes.
#   asOf: the world at that moment, as known now.
#   knownAt: only what was recorded by then, so a
#   belief stays reproducible after late reports.
#
# onDec4: Hama on 4 Dec as we know it now.
# believedOnDec4: the same, from the log of 4 Dec.
# The bundled sample was recorded when this server
# loaded it, so that answer is null (nothing known
# yet); on a live log, try an incident's recordedAt.
query BelievedOn4Dec {
  onDec4: controlAt(place: "hama", asOf: "2024-12-04T12:00:00+03:00") {
    ...State
  }
  believedOnDec4: controlAt(
    place: "hama"
    asOf: "2024-12-04T12:00:00+03:00"
    knownAt: "2024-12-04T23:59:59+03:00"
  ) {
    ...State
  }
}
"""
        + _STATE_FIELDS,
    ),
    Example(
        "Subscribe to new incidents",
        """\
# New incidents as they are recorded, over a
# WebSocket (graphql-ws) on /graphql. Keep it running
# and record an incident from another tab or client.
# After a disconnect, resume with incidents(after:
# "<last cursor>"): missed ones first, then live.
# Headers go in the connection's init payload.
subscription NewIncidents {
  incidents {
    cursor
    node { kind occurredAt }
  }
}
""",
    ),
)


@cache
def assets_directory() -> Path:
    """GraphiQL's static files inside the installed wheel."""
    directory = files(ASSETS_PACKAGE) / "static" / ASSETS_PACKAGE
    # A wheel installs as plain files; StaticFiles needs a real directory.
    path = Path(str(directory))
    if not (path / "graphiql.min.js").is_file():
        raise RuntimeError(f"{ASSETS_PACKAGE} is installed without GraphiQL's files at {path}")
    return path


@cache
def _page() -> str:
    template = Template((files("api") / "playground.html").read_text(encoding="utf-8"))
    examples = json.dumps([asdict(e) for e in EXAMPLES], ensure_ascii=False)
    # Inside <script>, "</script>" or "<!--" in a query must not end or alter the element.
    examples = examples.replace("<", "\\u003c")
    return template.substitute(assets=ASSETS_URL, boot=BOOT_URL, examples=examples)


@cache
def _boot_script() -> str:
    return (files("api") / "playground.js").read_text(encoding="utf-8")


def wants_page(request: Request) -> bool:
    """A browser opening /graphql: GET, no ?query=, and HTML accepted."""
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


class WithPlayground:
    """The GraphQL endpoint, answering a browser's GET with the playground page."""

    def __init__(self, graphql: ASGIApp) -> None:
        self.graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and wants_page(Request(scope)):
            response = HTMLResponse(_page(), headers=_page_headers())
            await response(scope, receive, send)
        else:
            await self.graphql(scope, receive, send)


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


async def boot_script(_request: Request) -> Response:
    return Response(
        _boot_script(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


def routes(graphql: ASGIApp) -> list[BaseRoute]:
    """GET/POST /graphql (with the page for browsers) and the page's assets."""
    return [
        Route("/graphql", WithPlayground(graphql), methods=["GET", "POST"]),
        Route(BOOT_URL, boot_script, methods=["GET"]),
        Mount(ASSETS_URL, app=StaticFiles(directory=assets_directory()), name="playground"),
    ]
