"""The raw log, entry by entry: what was recorded, at which position, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.auth import Principal, Role
from api.graphql import ids
from api.graphql.context import Info
from api.graphql.errors import ApiError
from api.graphql.types.common import Connection, check_page_size, connection
from readmodel.events import LoggedEvent, read_after
from readmodel.jsonable import plain
from readmodel.queries.sql import parse_position

# Attributes every event has; the rest is the event's own payload.
_ENVELOPE = {"originator_id", "originator_version", "originator_topic", "timestamp"}


@strawberry.type(description="One event of the append-only log.")
class LogEntry:
    position: int
    recorded_at: datetime
    aggregate_id: strawberry.ID = strawberry.field(description="Global id of its aggregate.")
    aggregate_version: int
    type: str = strawberry.field(description="e.g. Incident.Recorded, Place.Registered.")
    data: JSON

    @classmethod
    def from_logged(cls, logged: LoggedEvent, viewer: Principal | None = None) -> LogEntry:
        event = logged.event
        aggregate_type, _, _ = logged.name.partition(".")
        data = {k: plain(v) for k, v in vars(event).items() if k not in _ENVELOPE}
        return cls(
            position=logged.position,
            recorded_at=logged.recorded_at,
            aggregate_id=ids.encode(aggregate_type, event.originator_id),
            aggregate_version=event.originator_version,
            type=logged.name,
            data=JSON(_with_visible_key(data, viewer)),
        )


def _with_visible_key(data: dict[str, Any], viewer: Principal | None) -> dict[str, Any]:
    """An idempotency key is its writer's: an admin sees it as stored, its writer as sent,
    everyone else sees null (keys are often predictable, and say what a client will retry)."""
    meta = data.get("meta")
    if not isinstance(meta, dict) or meta.get("key") is None:
        return data
    key = str(meta["key"])
    if viewer is not None and viewer.role >= Role.ADMIN:
        shown: str | None = key
    elif viewer is not None and key.startswith(viewer.key_scope):
        shown = key.removeprefix(viewer.key_scope)
    else:
        shown = None
    return {**data, "meta": {**meta, "key": shown}}


async def log_page(info: Info, first: int, after: str | None) -> Connection[LogEntry]:
    """Cursors are log positions (as strings): ``after: "41"`` continues from position 42."""
    limit = check_page_size(first)
    try:
        position = 0 if after is None else parse_position(after)
    except ValueError:
        raise ApiError("INVALID_CURSOR", "a log cursor is a position", field="after") from None
    async with info.context.pool.acquire() as conn:
        logged = await read_after(conn, position, limit + 1)
    viewer = info.context.principal
    entries = [LogEntry.from_logged(e, viewer) for e in logged]
    return connection(entries, limit, lambda e: str(e.position), after=after)
