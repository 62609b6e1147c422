"""`frontline import-acled`: the command around ``frontline.acled_import``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Final

import asyncpg
import click

from domain.application import Frontline
from frontline.acled import AcledError, AcledRow, RowError, map_row, read_acled, read_deletions
from frontline.acled_import import (
    CHUNK,
    Held,
    Needs,
    Planner,
    Summary,
    count,
    execute,
    lookup,
)
from frontline.config import load_settings
from frontline.database import eventsourcing_env, resolve_dsn
from frontline.migrate import migrate
from readmodel.projector import catch_up
from readmodel.rebuild import rebuild_if_outdated

#: Rejected rows listed before "and N more".
MAX_REPORTED: Final = 100


@click.command(name="import-acled")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--deletions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="ACLED's list of deleted events (event_id_cnty, deleted_timestamp): retracted.",
)  # fmt: skip
@click.option("--strict", is_flag=True, help="Record nothing if any row is bad.")
@click.option("--dry-run", is_flag=True, help="Check and count everything; record nothing.")
@click.option("--chunk", default=CHUNK, show_default=True, help="Rows per atomic batch.")
def import_acled(
    file: Path, deletions: Path | None, *, strict: bool, dry_run: bool, chunk: int
) -> None:
    """Import an ACLED export (CSV, ACLED's columns in any order).

    Each row becomes an incident, keyed by its event_id_cnty: importing a file again records
    nothing; a row whose timestamp is newer than the one recorded becomes an amendment (the
    old belief stays readable with knownAt); an older one is ignored. Rows of --deletions
    become retractions. Places and actors are found or created. A bad row is reported as
    file:line: column: reason; the good rows land (no row is ever half-recorded) and the
    command exits non-zero naming the count, unless --strict, which records nothing then.
    """
    if chunk < 1:
        raise click.BadParameter("at least 1", param_hint="--chunk")
    dsn = resolve_dsn(load_settings())
    asyncio.run(_prepare(dsn))
    planner = Planner(file=file.name, deletions_file=deletions.name if deletions else "")
    try:
        if strict:
            bad = _check(file)
            if bad:
                _report(bad, f"--strict: nothing was recorded; {len(bad):,} rows are bad")
        application = None if dry_run else Frontline(env=eventsourcing_env(dsn))
        try:
            summary = _run(dsn, application, planner, file, deletions, chunk)
        finally:
            if application is not None:
                application.close()
    except AcledError as error:
        raise click.ClickException(f"{file.name}: {error}") from None
    click.echo(("dry run, nothing recorded: " if dry_run else "") + "; ".join(summary.lines()),
               err=True)  # fmt: skip
    if summary.rejected:
        _report(summary.problems, f"{summary.rejected:,} rows were rejected")


async def _prepare(dsn: str) -> None:
    """Migrate, and bring the read models up to date: they say what the log already holds."""
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await rebuild_if_outdated(conn)
        await catch_up(conn)
    finally:
        await conn.close()


def _check(file: Path) -> list[str]:
    with file.open(encoding="utf-8-sig", newline="") as lines:
        errors = (map_row(row) for row in read_acled(lines))
        return [e.report(file.name) for e in errors if isinstance(e, RowError)]


def _run(
    dsn: str, app: Frontline | None, planner: Planner, file: Path, deletions: Path | None,
    chunk: int,
) -> Summary:  # fmt: skip
    summary = planner.summary
    with file.open(encoding="utf-8-sig", newline="") as lines:
        total = max(sum(1 for _ in lines) - 1, 0)
    with (
        file.open(encoding="utf-8-sig", newline="") as lines,
        click.progressbar(length=total, label="importing", show_pos=True, file=sys.stderr) as bar,
    ):
        for rows in _chunks(read_acled(lines), chunk):
            mapped = [(row, map_row(row)) for row in rows]
            planner.learn(asyncio.run(_lookup(dsn, planner.needs(m for _, m in mapped))))
            _record(app, planner.rows(mapped), summary)
            bar.update(len(rows))
    if deletions is not None:
        with deletions.open(encoding="utf-8-sig", newline="") as lines:
            items = list(read_deletions(lines))
        ids = {record_id for _, record_id, _ in items}
        planner.learn(asyncio.run(_lookup(dsn, Needs(set(), set(), ids - planner.latest.keys()))))
        _record(app, planner.deletions(items), summary)
    return summary


def _record(app: Frontline | None, steps: list[Any], summary: Summary) -> None:
    if app is None:  # a dry run counts what would be recorded
        for step in steps:
            count(summary, step)
    else:
        execute(app, steps, summary, chunk=max(len(steps), 1))


async def _lookup(dsn: str, needs: Needs) -> Held:
    conn = await asyncpg.connect(dsn)
    try:
        return await lookup(conn, needs)
    finally:
        await conn.close()


def _chunks(rows: Iterator[AcledRow], size: int) -> Iterator[list[AcledRow]]:
    while batch := list(islice(rows, size)):
        yield batch


def _report(problems: list[str], headline: str) -> None:
    shown = problems[:MAX_REPORTED]
    more = len(problems) - len(shown)
    lines = [*shown, *([f"... and {more:,} more"] if more else []), headline]
    raise click.ClickException("\n".join(lines))
