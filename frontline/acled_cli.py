"""`frontline import-acled`: the command around ``frontline.acled_import.import_file``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import asyncpg
import click

from domain.application import Frontline
from frontline.acled import AcledError, read_acled, read_deletions
from frontline.acled_import import CHUNK, Rows, import_file
from frontline.acled_plan import Summary
from frontline.config import load_settings
from frontline.database import eventsourcing_env, resolve_dsn
from frontline.migrate import migrate
from readmodel.projector import catch_up
from readmodel.rebuild import rebuild_if_outdated


@click.command(name="import-acled")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--deletions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="ACLED's list of deleted events (event_id_cnty, deleted_timestamp): retracted.",
)  # fmt: skip
@click.option("--strict", is_flag=True, help="Record nothing if any row is bad.")
@click.option("--dry-run", is_flag=True, help="Check and count everything; record nothing.")
@click.option("--chunk", default=CHUNK, show_default=True, help="Rows per atomic batch.")
def import_acled_command(
    file: Path, deletions: Path | None, *, strict: bool, dry_run: bool, chunk: int
) -> None:
    """Import an ACLED export (CSV, ACLED's columns in any order).

    Each row becomes an incident, keyed by its event_id_cnty: importing a file again records
    nothing; a row whose timestamp is newer than the one recorded becomes an amendment (the
    old belief stays readable with knownAt); an older one is ignored. Rows of --deletions
    become retractions. Places and actors are found or created. A bad row is reported as
    file:line: column: reason; the good rows land (no row is ever half-recorded) and the
    command exits non-zero naming the count, unless --strict, which checks the whole file
    first (as recording it would) and records nothing then.
    """
    if chunk < 1:
        raise click.BadParameter("at least 1", param_hint="--chunk")
    dsn = resolve_dsn(load_settings())
    try:
        summary = asyncio.run(
            _run(dsn, file, deletions, strict=strict, dry_run=dry_run, chunk=chunk)
        )
    except AcledError as error:
        raise click.ClickException(f"{file.name}: {error}") from None
    except UnicodeDecodeError as error:
        raise click.ClickException(
            f"not UTF-8 text ({error.reason}): nothing was recorded"
        ) from None
    if strict and summary.rejected:
        _report(summary, f"--strict: nothing was recorded; {summary.rejected:,} rows are bad")
    click.echo(("dry run, nothing recorded: " if dry_run else "") + "; ".join(summary.lines()),
               err=True)  # fmt: skip
    if summary.rejected:
        _report(summary, f"{summary.rejected:,} rows were rejected")


async def _run(
    dsn: str, file: Path, deletions: Path | None, *, strict: bool, dry_run: bool, chunk: int
) -> Summary:
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    # Construction connects (psycopg): off the event loop.
    app = await asyncio.to_thread(Frontline, eventsourcing_env(dsn))
    try:
        # The read models say what the log already holds: bring them up to date first.
        await rebuild_if_outdated(conn)
        await catch_up(conn)
        return await import_file(
            conn, app, lambda: _opened(file, deletions), file=file.name,
            deletions_file=deletions.name if deletions else "", strict=strict, dry_run=dry_run,
            chunk=chunk, progress=_progressbar,
        )  # fmt: skip
    finally:
        await asyncio.to_thread(app.close)
        await conn.close()


def _text(path: Path) -> IO[str]:
    return path.open(encoding="utf-8-sig", newline="")


@contextmanager
def _opened(file: Path, deletions: Path | None) -> Iterator[Rows]:
    with _text(file) as lines:
        if deletions is None:
            yield read_acled(lines), ()
            return
        with _text(deletions) as listed:
            yield read_acled(lines), read_deletions(listed)


@contextmanager
def _progressbar(label: str, length: int) -> Iterator[Callable[[int], None]]:
    with click.progressbar(length=length, label=label, show_pos=True, file=sys.stderr) as bar:
        yield bar.update


def _report(summary: Summary, headline: str) -> Any:
    """The rejected rows the summary lists (the first ``MAX_PROBLEMS``), "and N more"."""
    more = summary.rejected - len(summary.problems)
    lines = [*summary.problems, *([f"... and {more:,} more"] if more else []), headline]
    raise click.ClickException("\n".join(lines))
