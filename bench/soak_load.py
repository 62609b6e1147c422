"""The soak's load process: HTTP readers, subscribers and writers against one server, or
spread over several (``urls``: subscriber, reader and writer n use server n mod their count).

Run by ``bench.soak`` as ``python -m bench.soak_load '<json spec>'``; prints a JSON report.
Every loop is bounded by the spec's duration; nothing targets anything but the given URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

import httpx
import websockets

from bench.load import _percentiles

KEEPALIVE = 2.0  # seconds; uvicorn closes idle connections after 5
SUBSCRIPTION = "subscription ($after: String) { incidents(after: $after) { cursor } }"
READS = [
    '{ controlAt(place: "hama") { status controllers { slug } } }',
    '{ place(ref: "aleppo") { name control { status } } }',
    "{ incidents(first: 5) { nodes { kind occurredAt } } }",
]
CAPTURE = """mutation($n: String!) { recordBatch(commands: [{capture: {
  incident: {occurredAt: "2024-12-06T12:00:00+03:00", places: ["yadgun"],
             sources: [{outlet: "Soak Wire"}], idempotencyKey: $n},
  details: {by: ["hts"], takenFrom: "syrian-arab-army"}}}]) { position } }"""


class Subscriber:
    def __init__(self, server: int = 0) -> None:
        self.server = server  # which of the URLs it follows
        self.cursors: list[int] = []
        self.arrivals: list[float] = []  # time.monotonic() of each cursor's arrival
        self.error: str | None = None

    async def run(
        self, url: str, after: str | None, ready: asyncio.Event, stop: asyncio.Event
    ) -> None:
        """Follow incidents after ``after``; None: live from now (a shared stream)."""
        try:
            async with websockets.connect(
                url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
            ) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                await ws.recv()
                payload = {"query": SUBSCRIPTION, "variables": {"after": after}}
                start = {"id": "1", "type": "subscribe", "payload": payload}
                await ws.send(json.dumps(start))
                ready.set()
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    message = json.loads(raw)
                    if message.get("type") == "next" and not message["payload"].get("errors"):
                        self.cursors.append(int(message["payload"]["data"]["incidents"]["cursor"]))
                        self.arrivals.append(time.monotonic())
                    elif message.get("type") != "ping":
                        self.error = str(message)[:300]
        except Exception as error:  # reported, not raised: the soak counts errors
            self.error = f"{type(error).__name__}: {error}"[:300]
            ready.set()


async def reader(client: httpx.AsyncClient, n: int, until: float, out: dict[str, Any]) -> None:
    i = n
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            response = await client.post("/graphql", json={"query": READS[i % len(READS)]})
            if response.status_code != 200 or "errors" in response.json():
                out["errors"].append(f"read {response.status_code}: {response.text[:200]}")
        except httpx.HTTPError as error:
            out["errors"].append(f"read {type(error).__name__}: {error}"[:200])
        out["latencies"].append((time.perf_counter() - start) * 1000)
        i += 1


async def writer(client: httpx.AsyncClient, n: int, until: float, out: dict[str, Any]) -> None:
    i = 0
    while time.monotonic() < until:
        key = f"soak/{n}/{i}"
        try:
            sent = time.monotonic()
            response = await client.post(
                "/graphql", json={"query": CAPTURE, "variables": {"n": key}}
            )
            body = response.json()
            if "errors" in body:
                out["errors"].append(f"write: {body['errors'][0].get('message')}")
            else:
                position = body["data"]["recordBatch"][0]["position"]
                out["positions"].append(position)
                out["sent"][position] = sent
        except httpx.HTTPError as error:
            out["errors"].append(f"write {type(error).__name__}: {error}"[:200])
        i += 1
        await asyncio.sleep(0.05)


async def soak(spec: dict[str, Any]) -> dict[str, Any]:
    urls: list[str] = spec.get("urls") or [spec["url"]]
    ws_urls = [url.replace("http://", "ws://") + "/graphql" for url in urls]
    stop = asyncio.Event()
    subscribers = [Subscriber(n % len(urls)) for n in range(spec["subscribers"])]
    readies = [asyncio.Event() for _ in subscribers]
    # Half resume from the head (a stream each), half follow live from now: identical
    # subscriptions, so they share one stream (api/live/fanout.py). No write happens before all
    # are subscribed, so both kinds are owed exactly what the writers append.
    tasks = [
        asyncio.create_task(
            s.run(ws_urls[s.server], None if n % 2 else str(spec["after"]), r, stop)
        )
        for n, (s, r) in enumerate(zip(subscribers, readies, strict=True))
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
    await asyncio.sleep(1)  # let every subscription reach the server's broadcaster
    reads: dict[str, Any] = {"errors": [], "latencies": []}
    writes: dict[str, Any] = {"errors": [], "positions": [], "sent": {}}
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them, so a
    # request never races the server closing its connection (an httpx ReadError otherwise).
    limits = httpx.Limits(max_connections=spec["clients"], keepalive_expiry=KEEPALIVE)
    writing_limits = httpx.Limits(max_connections=spec["writers"], keepalive_expiry=KEEPALIVE)
    headers = {"Authorization": f"Bearer {spec['key']}"}
    until = time.monotonic() + spec["seconds"]
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=30, limits=limits)
            )
            for url in urls
        ]
        writing = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=30, headers=headers, limits=writing_limits)
            )
            for url in urls
        ]
        await asyncio.gather(
            *(reader(clients[n % len(urls)], n, until, reads) for n in range(spec["clients"])),
            *(writer(writing[n % len(urls)], n, until, writes) for n in range(spec["writers"])),
        )
    appended = sorted(writes["positions"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(len(s.cursors) < len(appended) for s in subscribers):  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    received = [s.cursors for s in subscribers]
    sent = writes["sent"]
    receipts = [
        (arrived - sent[cursor]) * 1000
        for s in subscribers
        for cursor, arrived in zip(s.cursors, s.arrivals, strict=True)
        if cursor in sent
    ]
    by_server = [
        {
            "url": url,
            "subscribers": sum(s.server == n for s in subscribers),
            "complete": sum(s.server == n and s.cursors == appended for s in subscribers),
        }
        for n, url in enumerate(urls)
    ]
    return {
        "processes": by_server,
        "receipt": _percentiles(receipts) if receipts else None,
        "reads": len(reads["latencies"]),
        "read_latency": _percentiles(reads["latencies"]) if reads["latencies"] else None,
        "errors": reads["errors"][:20] + writes["errors"][:20],
        "error_count": len(reads["errors"]) + len(writes["errors"]),
        "appended": len(appended),
        "subscribers_complete": sum(r == appended for r in received),
        "live_complete": sum(r == appended for r in received[1::2]),
        "live": len(received[1::2]),
        "subscribers_short": sum(len(r) < len(appended) for r in received),
        "subscribers_out_of_order_or_duplicate": sum(r != sorted(set(r)) for r in received),
        "subscriber_errors": [s.error for s in subscribers if s.error][:10],
        "min_received": min((len(r) for r in received), default=0),
        "max_received": max((len(r) for r in received), default=0),
    }


def main() -> None:
    print(json.dumps(asyncio.run(soak(json.loads(sys.argv[1])))))


if __name__ == "__main__":
    main()
