"""Subscribers across a PostgreSQL restart: reconnecting with the last cursor misses nothing
and duplicates nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from frontline.embedded import stop_embedded_server
from tests.e2e.test_reliability import (  # noqa: F401 - own_postgres is a fixture
    BATCH_MUTATION,
    CAPTURE_MUTATION,
    _keys,
    capture,
    crash_batch,
    own_database,
    own_postgres,
    register_crash_places,
    restart_embedded,
    serving,
    wait_projected,
)
from tests.support.graphql_client import data, head

pytestmark = pytest.mark.slow

SUBSCRIPTION = "subscription ($after: String) { incidents(after: $after) { cursor } }"


class CursorCollector:
    """A subscriber on its own thread that reconnects with its last cursor whenever the
    socket drops, as a well-behaved client would, and records every cursor it receives."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.cursors: list[int] = []
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, websockets.WebSocketException, TimeoutError):
                await self._follow()
            self.reconnects += 1
            await asyncio.sleep(0.3)

    async def _follow(self) -> None:
        after = str(self.cursors[-1]) if self.cursors else "0"
        async with websockets.connect(
            self.ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await asyncio.wait_for(ws.recv(), 10)
            payload = {"query": SUBSCRIPTION, "variables": {"after": after}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            while not self._stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                message = json.loads(raw)
                if message.get("type") == "next" and not message["payload"].get("errors"):
                    self.cursors.append(int(message["payload"]["data"]["incidents"]["cursor"]))
                elif message.get("type") in ("error", "complete"):
                    return  # resubscribe from the last cursor


async def _recorded_positions(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT recorded_position FROM rm.incidents ORDER BY 1")
        return [r[0] for r in rows]
    finally:
        await conn.close()


def test_a_subscriber_that_reconnects_after_a_postgresql_restart_misses_nothing(
    own_postgres: Path,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    dsn, keys = own_database(own_postgres)
    with serving(dsn, tmp_path / "serve.log", keys) as served:
        server = served.server
        collector = CursorCollector(server.ws)
        collector.start()
        try:
            for n in range(3):
                incident = capture("before", n)["capture"]["incident"]
                data(server, CAPTURE_MUTATION, server.writer_key, i=incident)

            stop_embedded_server(own_postgres)
            time.sleep(1)
            refused = httpx.post(
                server.graphql,
                json={"query": CAPTURE_MUTATION, "variables": {
                    "i": capture("during", 0)["capture"]["incident"]}},
                headers=server.headers(server.writer_key),
                timeout=30,
            )  # fmt: skip
            assert refused.status_code == 503 or "errors" in refused.json()
            restart_embedded(own_postgres)
            served.wait_healthy()

            last = 0
            for n in range(3):
                incident = capture("after", n)["capture"]["incident"]
                written = data(server, CAPTURE_MUTATION, server.writer_key, i=incident)
                last = written["recordCapture"]["position"]
            wait_projected(server, last)
            expected = asyncio.run(_recorded_positions(dsn))
            deadline = time.monotonic() + 60
            while collector.cursors[-1:] != expected[-1:] and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)  # anything duplicated would arrive now
        finally:
            collector.stop()
    assert collector.cursors == expected
    assert len(expected) == 17 + 6  # the sample's incidents, 3 before and 3 after


async def _close_all(sockets: list[Any]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_subscribers_that_never_read_do_not_grow_server_memory_without_bound(
    own_postgres: Path,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    dsn, keys = own_database(own_postgres)
    with serving(dsn, tmp_path / "serve.log", keys) as served:
        server = served.server
        register_crash_places(server)

        async def stalled_subscribers() -> list[Any]:
            sockets = []
            for _ in range(20):
                ws = await websockets.connect(
                    server.ws,
                    subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
                    max_queue=1,  # and never read: the server's sends back up
                )
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                await ws.recv()
                message = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
                await ws.send(json.dumps(message))
                sockets.append(ws)
            return sockets

        loop = asyncio.new_event_loop()
        sockets = loop.run_until_complete(stalled_subscribers())
        live = CursorCollector(server.ws)
        live.start()
        try:
            time.sleep(2)
            before = _rss_mb(served.process.pid)
            last = 0
            for b in range(5):  # 5,000 incidents, each one queued for 20 stalled sockets
                written = data(server, BATCH_MUTATION, server.writer_key, c=crash_batch(b))
                last = written["recordBatch"][-1]["position"]
            wait_projected(server, last)
            deadline = time.monotonic() + 60
            while (live.cursors[-1:] or [0])[0] < last and time.monotonic() < deadline:
                time.sleep(0.2)
            after = _rss_mb(served.process.pid)
        finally:
            live.stop()
            loop.run_until_complete(_close_all(sockets))
            loop.close()
    assert live.cursors[-1] == last, "the live subscriber fell behind the stalled ones"
    assert after - before < 150, f"server RSS grew from {before:.0f} to {after:.0f} MB"


READER_SUBSCRIPTION = (
    "subscription { incidents { cursor node { id kind summary occurredAt places { slug name } } } }"
)


async def _read_forever(ws_url: str, received: list[int], index: int) -> None:
    async with websockets.connect(
        ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:  # permessage-deflate on, as browsers and this client default to
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        message = {"id": "1", "type": "subscribe", "payload": {"query": READER_SUBSCRIPTION}}
        await ws.send(json.dumps(message))
        while True:
            if json.loads(await ws.recv()).get("type") == "next":
                received[index] += 1


def test_server_memory_stays_flat_while_subscribers_keep_receiving(
    own_postgres: Path,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    """Each delivered item used to stay in graphql-core's per-subscription memo (~4 KB per
    item per subscriber: +300 MB here); see api/graphql/execution.py."""
    dsn, keys = own_database(own_postgres)
    readers = 20
    with serving(dsn, tmp_path / "serve.log", keys) as served:
        server = served.server
        register_crash_places(server)
        wait_projected(server, head(server))  # the sample is not news to the subscribers
        received = [0] * readers
        loop = asyncio.new_event_loop()
        tasks = [loop.create_task(_read_forever(server.ws, received, i)) for i in range(readers)]
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        def deliver(batch: int) -> None:
            last = data(server, BATCH_MUTATION, server.writer_key, c=crash_batch(batch))
            wait_projected(server, last["recordBatch"][-1]["position"])
            deadline = time.monotonic() + 120
            while min(received) < (batch + 1) * 1000 and time.monotonic() < deadline:
                time.sleep(0.2)

        try:
            time.sleep(2)
            deliver(0)  # warm-up: caches, pools and the ring fill to their working size
            before = _rss_mb(served.process.pid)
            for batch in range(1, 5):  # 4,000 more items to each of 20 subscribers
                deliver(batch)
            after = _rss_mb(served.process.pid)
        finally:

            async def close_all() -> None:
                for task in tasks:
                    task.cancel()  # each socket closes on its way out of `async with`
                await asyncio.gather(*tasks, return_exceptions=True)

            asyncio.run_coroutine_threadsafe(close_all(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
    assert received == [5000] * readers
    assert after - before < 100, f"server RSS grew from {before:.0f} to {after:.0f} MB"
