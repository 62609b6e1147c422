"""`frontline import-acled`: the command around ``frontline.acled_import``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Final

import asyncpg
import click

from domain.application import Frontline
from frontline.acled import AcledError, read_acled, read_deletions
from frontline.acled_import import CHUNK, Planner, Summary, bad_rows, import_acled
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
def import_acled_command(
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
    try:
        if strict:
            with file.open(encoding="utf-8-sig", newline="") as lines:
                bad = bad_rows(read_acled(lines), file.name)
            if bad:
                _report(bad, len(bad), f"--strict: nothing was recorded; {len(bad):,} rows are bad")
        summary = asyncio.run(_run(dsn, file, deletions, dry_run=dry_run, chunk=chunk))
    except AcledError as error:
        raise click.ClickException(f"{file.name}: {error}") from None
    click.echo(("dry run, nothing recorded: " if dry_run else "") + "; ".join(summary.lines()),
               err=True)  # fmt: skip
    if summary.rejected:
        _report(summary.problems, summary.rejected, f"{summary.rejected:,} rows were rejected")


async def _run(
    dsn: str, file: Path, deletions: Path | None, *, dry_run: bool, chunk: int
) -> Summary:
    await migrate(dsn)
    with file.open(encoding="utf-8-sig", newline="") as lines:
        total = max(sum(1 for _ in lines) - 1, 0)
    conn = await asyncpg.connect(dsn)
    # Construction connects (psycopg): off the event loop.
    app = None if dry_run else await asyncio.to_thread(Frontline, eventsourcing_env(dsn))
    try:
        # The read models say what the log already holds: bring them up to date first.
        await rebuild_if_outdated(conn)
        await catch_up(conn)
        planner = Planner(file=file.name, deletions_file=deletions.name if deletions else "")
        with (
            file.open(encoding="utf-8-sig", newline="") as lines,
            click.progressbar(length=total, label="importing", show_pos=True,
                              file=sys.stderr) as bar,
        ):  # fmt: skip
            deleted = []
            if deletions is not None:
                with deletions.open(encoding="utf-8-sig", newline="") as listed:
                    deleted = list(read_deletions(listed))
            return await import_acled(
                conn, app, planner, read_acled(lines), deleted, chunk=chunk, progress=bar.update
            )
    finally:
        if app is not None:
            await asyncio.to_thread(app.close)
        await conn.close()


def _report(problems: list[str], count: int, headline: str) -> None:
    shown = problems[:MAX_REPORTED]
    more = count - len(shown)
    lines = [*shown, *([f"... and {more:,} more"] if more else []), headline]
    raise click.ClickException("\n".join(lines))
