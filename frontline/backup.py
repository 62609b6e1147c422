"""Backup and restore of the event log as NDJSON (`frontline export` / `frontline import`).

One event per line, in position order::

    {"position": 1, "recorded_at": "2024-12-05T11:02:03.123456+00:00",
     "originator_id": "…", "originator_version": 1, "topic": "domain…:Place.Registered",
     "state": "{…the stored JSON, as text…}"}

``state`` is the stored bytes as a JSON string when they are UTF-8 (they are: eventsourcing's
JSON transcoder), otherwise ``state_base64``; either way they come back byte for byte.

The log is the only source of truth, so read models are not exported: restore the log, then
rebuild them. An import goes into an empty log only, in one transaction (all or nothing), and
keeps every position and record time: positions because events are inserted in order and
each assigned position is checked, record times through the import mode of the position
trigger (migrations/0006_import_record_time.sql).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any, Final
from uuid import UUID

from readmodel.events import HEAD

BATCH: Final = 1000
# The longest line an export holds or an import reads: an event's state is at most a request
# body (1 MiB by default) of JSON, a few times that once escaped; a longer line is refused
# before it is read whole.
MAX_LINE: Final = 16 * 1024 * 1024
EXPORT_LINE_START: Final = b'{"position": '  # how `_line`'s JSON begins
#: The event an export says sits at a position, to tell a copy of this log from another's.
SELECT_AT: Final = (
    "SELECT originator_id, originator_version FROM public.frontline_events"
    " WHERE notification_id = $1"
)

#: A consistent snapshot of the log after a position, in order (read inside a REPEATABLE READ
#: transaction). Positions are gapless and never reused, so "after N" is exactly what is new.
SELECT_LOG: Final = """
SELECT notification_id, recorded_at, originator_id, originator_version, topic, state
  FROM public.frontline_events
 WHERE notification_id > $1
 ORDER BY notification_id
"""
#: Rows go in ordered by their place in the batch, so the trigger hands out positions in order.
INSERT_BATCH: Final = """
INSERT INTO public.frontline_events
       (originator_id, originator_version, topic, state, recorded_at)
SELECT originator_id, originator_version, topic, state, recorded_at
  FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[], $5::timestamptz[])
       WITH ORDINALITY AS e (originator_id, originator_version, topic, state, recorded_at, n)
 ORDER BY n
RETURNING originator_id, originator_version, notification_id
"""

Progress = Callable[[int], None]


class BackupError(RuntimeError):
    """The backup can't be restored here (not empty, malformed, positions would differ)."""


async def export_log(
    conn: Any, out: IO[str], progress: Progress | None = None, *, after: int = 0
) -> int:
    """Write the log (the events after position ``after``: an increment of an earlier
    export) to ``out`` as NDJSON; returns the number of events written.

    Reads one snapshot, so writers may keep appending meanwhile: the export is the log as
    of its start, with no gap and no half-committed batch.
    """
    written = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(SELECT_LOG, after, prefetch=BATCH):
            out.write(json.dumps(_line(row), ensure_ascii=False) + "\n")
            written += 1
            if progress is not None:
                progress(1)
    return written


async def export_head(conn: Any, after: int = 0) -> int:
    """How many events an export started now would write (for a progress bar)."""
    return max(0, int(await conn.fetchval(HEAD)) - after)


def last_event(backup: IO[bytes], max_line: int = MAX_LINE) -> tuple[dict[str, Any] | None, int]:
    """The event on the last whole line of an export open for reading and writing (None for
    an empty file), and the length up to the end of it: a line cut short (an append that was
    killed) ends past it. Reads backwards from the end, at most ``max_line`` bytes for the
    last line. `BackupError` if the file does not end with an exported event, or holds no
    whole line and does not begin like one (so `--append` never empties a file that is not
    an export, given by mistake)."""
    end = backup.seek(0, 2)
    if end == 0:
        return None, 0
    start = max(0, end - max_line - 2)
    backup.seek(start)
    tail = backup.read(end - start)
    whole = tail[: tail.rfind(b"\n") + 1]  # up to the last newline: the rest is cut short
    if not whole:
        if start == 0 and tail.startswith(EXPORT_LINE_START):  # one line cut short
            return None, 0
        if start == 0:
            raise BackupError("it is not an export: its first line is not an exported event")
        raise BackupError(f"the last line is longer than {max_line} bytes")
    previous = whole[:-1].rfind(b"\n")
    if previous < 0 and start > 0:
        raise BackupError(f"the last line is longer than {max_line} bytes")
    try:
        return _parse(whole[previous + 1 :], 0), start + len(whole)
    except BackupError:
        raise BackupError("its last line is not an exported event") from None


async def holds_event(conn: Any, event: dict[str, Any]) -> bool:
    """Whether this log holds ``event`` (an export's) at its position: a file `--append`
    would add to is a copy of this log, not another's."""
    row = await conn.fetchrow(SELECT_AT, event["position"])
    return row is not None and (row["originator_id"], row["originator_version"]) == (
        event["originator_id"],
        event["originator_version"],
    )


async def import_log(conn: Any, lines: Iterable[bytes], progress: Progress | None = None) -> int:
    """Append an exported log to this database's empty log; returns the events imported.

    ``progress`` is called with the number of input bytes consumed. Raises `BackupError`
    (and writes nothing) if the log is not empty, a line is malformed, or an event would
    land at another position than it had.
    """
    imported = 0
    async with conn.transaction():
        # Nobody appends while we check emptiness and import (the trigger's advisory lock
        # alone would let a writer slip in between two batches).
        await conn.execute("LOCK TABLE public.frontline_events IN EXCLUSIVE MODE")
        if await conn.fetchval(HEAD):
            raise BackupError("the event log is not empty: import only into a new database")
        await conn.execute("SELECT set_config('frontline.import', 'on', true)")
        for batch, consumed in _batches(lines):
            if batch:
                await _insert(conn, batch, expected_first=imported + 1)
            imported += len(batch)
            if progress is not None:
                progress(consumed)
        await conn.execute("NOTIFY frontline_events")  # wake any projector at once
    return imported


async def _insert(conn: Any, batch: list[dict[str, Any]], expected_first: int) -> None:
    for offset, event in enumerate(batch):
        if event["position"] != expected_first + offset:
            raise BackupError(
                f"position {event['position']} follows {expected_first + offset - 1}: "
                "the export has a gap or is out of order"
            )
    columns = [
        [e["originator_id"] for e in batch],
        [e["originator_version"] for e in batch],
        [e["topic"] for e in batch],
        [e["state"] for e in batch],
        [e["recorded_at"] for e in batch],
    ]
    rows = await conn.fetch(INSERT_BATCH, *columns)
    assigned = {(r["originator_id"], r["originator_version"]): r["notification_id"] for r in rows}
    for event in batch:
        got = assigned.get((event["originator_id"], event["originator_version"]))
        if got != event["position"]:
            raise BackupError(f"event at position {event['position']} was assigned {got}")


def bounded_lines(file: IO[bytes], max_line: int = MAX_LINE) -> Iterator[bytes]:
    """The lines of ``file``; `BackupError` for one longer than ``max_line`` bytes (read
    no further than that)."""
    number = 0
    while line := file.readline(max_line + 1):
        number += 1
        if len(line) > max_line:
            raise BackupError(f"line {number} is longer than {max_line} bytes")
        yield line


def _batches(lines: Iterable[bytes]) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Parsed events in batches of `BATCH`, each with the input bytes it consumed."""
    batch: list[dict[str, Any]] = []
    consumed = 0
    for number, line in enumerate(lines, start=1):
        consumed += len(line)
        if line.strip():
            batch.append(_parse(line, number))
        if len(batch) == BATCH:
            yield batch, consumed
            batch, consumed = [], 0
    if batch or consumed:
        yield batch, consumed


def _line(row: Any) -> dict[str, Any]:
    state = bytes(row["state"])
    line: dict[str, Any] = {
        "position": row["notification_id"],
        "recorded_at": row["recorded_at"].isoformat(),
        "originator_id": str(row["originator_id"]),
        "originator_version": row["originator_version"],
        "topic": row["topic"],
    }
    try:
        line["state"] = state.decode("utf-8")
    except UnicodeDecodeError:
        line["state_base64"] = base64.b64encode(state).decode("ascii")
    return line


def _parse(line: bytes, number: int) -> dict[str, Any]:
    try:
        data = json.loads(line)
        text = data.get("state")
        if isinstance(text, str):
            state = text.encode("utf-8")
        else:
            state = base64.b64decode(data["state_base64"], validate=True)
        recorded_at = datetime.fromisoformat(data["recorded_at"])
        if recorded_at.tzinfo is None:
            raise ValueError("recorded_at has no UTC offset")
        return {
            "position": int(data["position"]),
            "recorded_at": recorded_at,
            "originator_id": UUID(data["originator_id"]),
            "originator_version": int(data["originator_version"]),
            "topic": str(data["topic"]),
            "state": state,
        }
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        msg = f"line {number} is not an exported event: {exc}"
        raise BackupError(msg) from None
