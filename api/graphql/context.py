"""The per-request context: shared resources, the caller, and per-request DataLoaders."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from api.auth import Principal, Role, still_valid
from api.graphql.errors import forbidden, unauthenticated
from api.live.broadcast import Broadcaster
from api.metrics import note_replica
from domain.application import Frontline
from readmodel import queries as q

if TYPE_CHECKING:
    from api.graphql.imports import DatasetImporter
    from api.live.fanout import Fanout
    from api.metrics import Metrics
    from api.sockets import SocketCount

T = TypeVar("T")
KEY_RECHECK_SECONDS: Final = 2.0
RECORDED_AT: Final = (
    "SELECT notification_id, recorded_at FROM public.frontline_events "
    "WHERE notification_id = ANY($1::bigint[])"
)
REVOKED: Final = "the API key was revoked"


def _loader(
    pool: Any, fetch: Callable[[Any, Sequence[UUID]], Awaitable[dict[UUID, T]]]
) -> DataLoader[UUID, T | None]:
    async def load(ids: Sequence[UUID]) -> list[T | None]:
        async with pool.acquire() as conn:
            found = await fetch(conn, ids)
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


@dataclass
class Context:
    pool: Any
    application: Frontline
    principal: Principal | None
    open_reads: bool
    projected: Callable[[], Awaitable[int]]
    # Subscriptions' fan-out (api.live.broadcast); None where nothing serves them.
    broadcaster: Broadcaster | None = None
    # Live streams shared by identical subscriptions (api.live.fanout); None: each runs alone.
    fanout: Fanout | None = None
    # A WebSocket's `connection_init` payload, set by Strawberry (see FrontlineGraphQL).
    connection_params: dict[str, object] | None = None
    # Sockets per key (api.sockets), and the key whose slot this socket holds.
    sockets: SocketCount | None = None
    socket_slot: UUID | None = None
    # Set when a long-lived socket's key turns out revoked (KeyWatch): the socket closes.
    key_revoked: bool = False
    # Importers of datasets' files by name ("acled"), from the running system.
    importers: Mapping[str, DatasetImporter] = field(default_factory=dict)
    # This process's metrics (api.metrics), None outside a server.
    metrics: Metrics | None = None
    # The primary's pool while `pool` is a streaming replica's (api.replicas), else None.
    primary: Any = None
    # The log position this request has seen its replica reach (api.graphql.freshness).
    replica_reached: int = 0

    @cached_property
    def reaching(self) -> asyncio.Lock:
        """Held while the request waits for its replica to reach a position."""
        return asyncio.Lock()

    @property
    def on_replica(self) -> bool:
        return self.primary is not None and self.pool is not self.primary

    def use_primary(self) -> None:
        """Read from the primary from now on: a mutation's answer must see its own write."""
        if self.on_replica:
            self.pool = self.primary
            note_replica(None)
            for loader in ("place_loader", "actor_loader", "incident_loader"):
                self.__dict__.pop(loader, None)  # made on the replica's pool

    # The loaders are made when first used: most requests use one or none, and making all
    # four was a tenth of the context's cost on a small query (py-spy).
    @cached_property
    def place_loader(self) -> DataLoader[UUID, q.PlaceRow | None]:
        return _loader(self.pool, q.places_by_id)

    @cached_property
    def actor_loader(self) -> DataLoader[UUID, q.ActorRow | None]:
        return _loader(self.pool, q.actors_by_id)

    @cached_property
    def incident_loader(self) -> DataLoader[UUID, q.IncidentRow | None]:
        return _loader(self.pool, q.incidents_by_id)

    @cached_property
    def recorded_at_loader(self) -> DataLoader[int, datetime]:
        return DataLoader(load_fn=self._recorded_at)

    async def _recorded_at(self, positions: Sequence[int]) -> list[datetime]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(RECORDED_AT, list(positions))
        found = {r["notification_id"]: r["recorded_at"] for r in rows}
        return [found[p] for p in positions]

    def require(self, role: Role) -> Principal:
        """The caller, if its key grants ``role``; a typed error otherwise."""
        if self.principal is None:
            raise unauthenticated()
        if self.principal.role < role:
            raise forbidden(f"this needs a {role.name.lower()} key")
        return self.principal

    def can_read(self) -> bool:
        return self.open_reads or (
            self.principal is not None and self.principal.role >= Role.READER
        )

    def check_read(self) -> None:
        if not self.open_reads:
            self.require(Role.READER)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a synchronous write-side call off the event loop, as a writer."""
        self.require(Role.WRITER)
        return await asyncio.to_thread(fn, *args)


class KeyWatch:
    """A long-lived socket's key, re-checked at most every ``KEY_RECHECK_SECONDS``: a key
    revoked since `connection_init` ends the subscription with ``UNAUTHENTICATED``, and the
    socket's handler closes it (api.graphql.view)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.checked = time.monotonic()

    async def recheck(self) -> None:
        context = self.context
        if context.principal is None or time.monotonic() - self.checked < KEY_RECHECK_SECONDS:
            return
        self.checked = time.monotonic()
        async with context.pool.acquire() as conn:
            if not await still_valid(conn, context.principal):
                context.principal = None
                context.key_revoked = True
                raise unauthenticated(REVOKED)


Info = StrawberryInfo[Context, None]
