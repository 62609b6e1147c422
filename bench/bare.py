"""The raw baselines over HTTP: a bare Starlette route that answers the same row as Frontline's
``place(ref:)`` query straight from asyncpg, with no GraphQL in between (small-query
throughput), and one that does nothing but the one-row INSERT of the mutation baseline
(``/insert``: what the HTTP round trip alone adds to a write, from the same client).

`python -m bench.bare DSN PORT` serves it with the same uvicorn settings as `frontline serve`
(``frontline.http_server.uvicorn_options``: uvloop, httptools with bounded heads, the limits), with
the access log off as the benchmark runs Frontline (``FRONTLINE_ACCESS_LOG=false``). It reads
the request body like a GraphQL endpoint would and expects the same ``{"query": ...}`` JSON,
but only looks up the slug in it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from uuid import uuid4

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.load import INSERT_ROW
from frontline.config import load_settings
from frontline.database import create_pool
from frontline.http_server import uvicorn_options

SELECT_PLACE = "SELECT slug, name, kind, latitude, longitude FROM rm.places WHERE slug = $1"
STATE = bytes(300)  # the size of a recorded capture's state, as bench.load's baseline
_REF = re.compile(r'ref:\s*"([^"]+)"')


def create_app(dsn: str) -> Starlette:
    pool: Any = None

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await create_pool(dsn)  # the same pool settings as the API
        try:
            yield
        finally:
            await pool.close()

    async def place(request: Request) -> JSONResponse:
        query = json.loads(await request.body())["query"]
        found = _REF.search(query)
        row = None if found is None else await pool.fetchrow(SELECT_PLACE, found.group(1))
        return JSONResponse({"data": {"place": None if row is None else dict(row)}})

    async def insert(request: Request) -> JSONResponse:
        json.loads(await request.body())  # read like a GraphQL endpoint, then write one row
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_ROW, uuid4(), "bench:Recorded", STATE)
        return JSONResponse({"data": {"inserted": True}})

    routes = [
        Route("/graphql", place, methods=["POST"]),
        Route("/insert", insert, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    dsn, port = sys.argv[1], int(sys.argv[2])
    # The same server, protocol and limits as `frontline serve`.
    options = uvicorn_options(replace(load_settings(), access_log=False))
    uvicorn.run(create_app(dsn), host="127.0.0.1", port=port, **options)


if __name__ == "__main__":
    main()
