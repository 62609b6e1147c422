"""`frontline import-acled` and ``importAcled``: a file's planned rows recorded, or checked.

``import_file`` is the whole flow: read the file to its end (``scan``), check every row as
recording would when asked (``checking``: a dry run, ``--strict``'s first pass), then record
(``recording``: ``execute``, in atomic chunks). ``frontline.acled_plan`` decides what each
row becomes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from typing import Any, Final, TypeVar

from domain.application import Frontline
from domain.errors import DomainError
from domain.identity import incident_id
from frontline.acled import AcledError, AcledRow, map_row
from frontline.acled_plan import Needs, Planner, Step, Summary, count, lookup, record_key

CHUNK: Final = 1000


def execute(app: Frontline, steps: list[Step], summary: Summary) -> None:
    """Record ``steps`` (a planned chunk) in one atomic batch. A batch the log refuses
    (something changed since the plan) is recorded row by row instead, so that one bad row
    costs only itself: first every registration of the chunk (a later row may use a place an
    earlier one registers), then each row's own command."""
    try:
        app.execute_batch([command for step in steps for command in step.commands])
    except DomainError:
        _row_by_row(app, steps, summary)
        return
    for step in steps:
        count(summary, step)


def _row_by_row(app: Frontline, part: list[Step], summary: Summary) -> None:
    failed: dict[int, DomainError] = {}
    for n, step in enumerate(part):
        for command in step.commands[:-1]:  # the registrations
            try:
                app.execute(command)
            except DomainError as error:
                failed.setdefault(n, error)
    for n, step in enumerate(part):
        try:
            if n not in failed:
                app.execute(step.commands[-1])
        except DomainError as error:
            failed[n] = error
        if n in failed:
            refusal = failed[n]
            summary.reject(f"{step.where}: {refusal.field or 'row'}: {refusal.message}")
        else:
            count(summary, step)


# -- the whole import ---------------------------------------------------------------------------

#: Incidents a check may keep in memory because a later row of the file revises or deletes
#: them; past it, the file is refused (split it).
MAX_HELD_FOR_CHECK: Final = 100_000
#: Rows of a file (and of its deletions): ACLED's whole dataset is a few million rows; the
#: importer keeps ~200 bytes per event id, so this bounds a file's memory to ~1 GB.
MAX_ROWS: Final = 5_000_000
_SCAN_BITS: Final = 1 << 27  # 16 MiB: a few events of a million falsely "repeated"


@dataclass
class Scan:
    """A file read once before anything is written: it is CSV to the end (a file that breaks
    at row 900,000 is refused before row 1 is recorded), how many rows it has (the progress
    bar), and which event ids may occur more than once in it or in the deletions (a
    superset, from a bitmap of hashes: ``repeated_ids`` confirms them)."""

    rows: int = 0
    repeated: set[str] = field(default_factory=set)


def scan(rows: Iterable[AcledRow], deletions: Iterable[tuple[int, str, str]] = ()) -> Scan:
    bits = bytearray(_SCAN_BITS // 8)
    found = Scan()

    def see(record_id: str) -> None:
        h = hash(record_id) % _SCAN_BITS
        byte, bit = h >> 3, 1 << (h & 7)
        if bits[byte] & bit:
            found.repeated.add(record_id)
        bits[byte] |= bit

    for row in rows:
        found.rows += 1
        see(row.get("event_id_cnty"))
        if found.rows > MAX_ROWS:
            raise AcledError(f"more than {MAX_ROWS:,} rows: split the file")
    for n, (_, record_id, _) in enumerate(deletions, start=1):
        see(record_id)
        if n > MAX_ROWS:
            raise AcledError(f"more than {MAX_ROWS:,} deletions: split the file")
    return found


Write = Callable[[list[Step], Summary], Awaitable[None]]


def recording(app: Frontline) -> Write:
    """Record steps through ``app``'s write path, in a worker thread (``execute``)."""

    async def write(steps: list[Step], summary: Summary) -> None:
        if steps:
            await asyncio.to_thread(execute, app, steps, summary)

    return write


def repeated_ids(
    rows: Iterable[AcledRow], deletions: Iterable[tuple[int, str, str]], candidates: set[str]
) -> set[str]:
    """Which of the scan's candidates do occur more than once (a second pass that counts
    only them): the exact set a check keeps incidents for."""
    counts: dict[str, int] = {}
    listed = chain((r.get("event_id_cnty") for r in rows), (d[1] for d in deletions))
    for record_id in listed:
        if record_id in candidates:
            counts[record_id] = counts.get(record_id, 0) + 1
    return {record_id for record_id, n in counts.items() if n > 1}


def checking(app: Frontline, repeated: set[str], planner: Planner) -> Write:
    """Check steps as recording them would, record nothing (``Frontline.validator``): a
    dry run, and the first pass of ``--strict``. Keeps in memory only the incidents that a
    later row of the file revises or deletes (``repeated_ids``), as ``planner`` names them."""
    validator = app.validator()
    derived = {incident_id(record_key(record_id)) for record_id in repeated}

    def check(steps: list[Step], summary: Summary) -> None:
        for step in steps:
            try:
                validator.check(step.commands)
            except DomainError as refusal:
                summary.reject(f"{step.where}: {refusal.field or 'row'}: {refusal.message}")
            else:
                count(summary, step)
        # The incidents later rows name: by their keys, or as the log holds them (planner.ids).
        kept = derived | {planner.ids[r] for r in repeated if r in planner.ids}
        validator.forget(kept.__contains__)
        if validator.held() > MAX_HELD_FOR_CHECK:
            raise AcledError(
                f"more than {MAX_HELD_FOR_CHECK:,} events are revised within the file: "
                "split it to check it whole"
            )

    async def write(steps: list[Step], summary: Summary) -> None:
        await asyncio.to_thread(check, steps, summary)

    return write


async def import_acled(
    conn: Any,
    write: Write,
    planner: Planner,
    rows: Iterable[AcledRow],
    deletions: Iterable[tuple[int, str, str]] = (),
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] = lambda _: None,
    stopped: Callable[[], bool] = lambda: False,
) -> Summary:
    """Import ``rows`` and then ``deletions`` (from ``read_acled`` and ``read_deletions``)
    chunk by chunk: map, look up what the log holds (``conn``, on projected read models),
    plan, and ``write`` (``recording`` or ``checking``). Only one chunk is in memory at a
    time; ``stopped`` is asked between chunks (a client that went away)."""
    summary = planner.summary
    now = datetime.now(UTC)
    for batch in _chunks(iter(rows), chunk):
        mapped = [(row, map_row(row, now)) for row in batch]
        planner.learn(await lookup(conn, planner.needs(m for _, m in mapped)))
        await write(planner.rows(mapped), summary)
        progress(len(batch))
        if stopped():
            return summary
    for items in _chunks(iter(deletions), chunk):
        ids = {record_id for _, record_id, _ in items} - planner.latest.keys()
        planner.learn(await lookup(conn, Needs(set(), set(), ids)))
        await write(planner.deletions(items), summary)
        if stopped():
            break
    return summary


T = TypeVar("T")


def _chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


Rows = tuple[Iterable[AcledRow], Iterable[tuple[int, str, str]]]
#: Opens the file (and its deletions) again for each pass: ``read_acled``, ``read_deletions``.
Opener = Callable[[], AbstractContextManager[Rows]]
#: A progress display for a pass: (its label, its length) -> what to call with each chunk.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def _no_progress(_label: str, _length: int) -> Iterator[Callable[[int], None]]:
    yield lambda _: None


async def import_file(
    conn: Any,
    app: Frontline,
    opened: Opener,
    *,
    file: str,
    deletions_file: str = "deletions",
    strict: bool = False,
    dry_run: bool = False,
    chunk: int = CHUNK,
    progress: Progress = _no_progress,
    stopped: Callable[[], bool] = lambda: False,
) -> Summary:
    """The whole import of a file, as `frontline import-acled` and ``importAcled`` run it:
    read it to its end (``scan``: nothing is written from a file that breaks halfway); with
    ``strict`` or ``dry_run``, check every row as recording would (``checking``) and stop
    there for a dry run, a bad row under ``strict`` (nothing was recorded: the summary says
    which), or a check cut short; then record (``recording``)."""
    with opened() as (rows, deletions):
        scanned = scan(rows, deletions)

    async def run(write_for: Callable[[Planner], Write], label: str) -> Summary:
        planner = Planner(file=file, deletions_file=deletions_file)
        with opened() as (rows, deletions), progress(label, scanned.rows) as advance:
            return await import_acled(
                conn, write_for(planner), planner, rows, deletions,
                chunk=chunk, progress=advance, stopped=stopped,
            )  # fmt: skip

    if strict or dry_run:
        with opened() as (rows, deletions):
            repeated = repeated_ids(rows, deletions, scanned.repeated)
        checked = await run(lambda planner: checking(app, repeated, planner), "checking")
        checked.dry_run = dry_run
        if dry_run or checked.rejected or stopped():  # a check cut short proves nothing
            return checked
    return await run(lambda _: recording(app), "importing")
