"""`frontline` — serve the API and manage its database."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import itertools
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar
from uuid import UUID

import asyncpg
import click

from api.auth import KeyNameError, Role, check_key_name, create_key, list_keys, revoke_key
from domain.application import Frontline
from domain.errors import DomainError
from domain.vocabulary import AssessmentTier
from frontline import logs
from frontline.acled_cli import import_acled_command
from frontline.acled_export import export_acled
from frontline.backup import (
    BackupError,
    bounded_lines,
    export_head,
    export_log,
    holds_event,
    import_log,
    last_event,
)
from frontline.baseline import MAX_BYTES as BASELINE_MAX_BYTES
from frontline.baseline import (
    BaselineError,
    baseline_commands,
    file_digest,
    parse_offset,
    read_rows,
    referenced,
)
from frontline.baseline import Defaults as BaselineDefaults
from frontline.config import load_settings, log_format
from frontline.database import DatabaseConfigError, eventsourcing_env, resolve_dsn
from frontline.embedded import LIBRARY_LOGGER, EmbeddedServerError, stop_embedded_server
from frontline.http_server import uvicorn_options
from frontline.migrate import MigrationError, migrate
from frontline.projecting import die_with_parent, watch_parent
from frontline.sample import load_sample
from frontline.server import create_server
from frontline.workers import Workers, listening_socket
from readmodel.events import HEAD, head_position, registered
from readmodel.projector import Projector, catch_up
from readmodel.queries.control import known_position
from readmodel.rebuild import rebuild as rebuild_read_models
from readmodel.rebuild import rebuild_if_outdated

logger = logging.getLogger("frontline")
T = TypeVar("T")

#: The most API processes `serve --workers` / FRONTLINE_WORKERS starts.
MAX_WORKERS: Final = 64
#: Session advisory lock key held while checking for and loading the sample ("FRONTSMP").
SAMPLE_LOCK_KEY: Final = 0x46524F4E54534D50


class _Commands(click.Group):
    """Say what is wrong with the database, its settings or its migrations in one line, not
    a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (DatabaseConfigError, EmbeddedServerError, MigrationError) as error:
            raise click.ClickException(str(error)) from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            # asyncpg's messages name the host and the database, never the password.
            message = str(error) or type(error).__name__
            raise click.ClickException(f"cannot use PostgreSQL: {message}") from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
def main(*, verbose: bool) -> None:
    """Frontline: an event-sourced database of armed-conflict events.

    Configuration comes from the environment: DATABASE_URL (unset: run an embedded
    PostgreSQL under FRONTLINE_DATA_DIR, default ./.frontline), FRONTLINE_HOST,
    FRONTLINE_PORT, FRONTLINE_LOAD_SAMPLE.
    """
    try:
        found = log_format()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    logs.configure(found, verbose=verbose)
    # The embedded PostgreSQL's package logs every command it runs at INFO.
    logging.getLogger(LIBRARY_LOGGER).setLevel(logging.DEBUG if verbose else logging.WARNING)


@main.command()
@click.option("--host", help="Interface to bind (default: FRONTLINE_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to bind (default: FRONTLINE_PORT or 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_WORKERS),
    help="API processes on the one port (default: FRONTLINE_WORKERS or 1); one projector.",
)
@click.option("--fd", type=int, hidden=True, help="Serve on this inherited socket (a worker).")
@click.pass_context
def serve(
    ctx: click.Context, host: str | None, port: int | None, workers: int | None, fd: int | None
) -> None:
    """Migrate, load the sample into an empty log (if FRONTLINE_LOAD_SAMPLE), and serve HTTP.

    Runs until interrupted (Ctrl-C).
    """
    import uvicorn  # noqa: PLC0415 — only this command needs it

    settings = load_settings()
    count = workers or settings.workers
    if not 1 <= count <= MAX_WORKERS:  # before anything starts: the embedded server, a migration
        raise click.UsageError(f"FRONTLINE_WORKERS must be 1 to {MAX_WORKERS}, not {count}")
    if fd is not None:  # a worker of `serve --workers`: the parent prepared everything
        parent = die_with_parent()
        if parent is not None:
            threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
        # Not uvicorn's `fd=`: it takes the descriptor for a UNIX socket, and a TCP socket
        # taken for one gets no TCP_NODELAY (each answer then waited ~40 ms for an ACK).
        sock = socket.socket(fileno=fd)
        config = uvicorn.Config(create_server(settings), **uvicorn_options(settings))
        uvicorn.Server(config).run(sockets=[sock])
        return
    dsn = resolve_dsn(settings)
    asyncio.run(_prepare(dsn, load_sample=settings.load_sample))
    if count > 1:
        verbose = bool(ctx.parent and ctx.parent.params.get("verbose"))
        sock = listening_socket(host or settings.host, port or settings.port)
        logger.info("serving on %s:%d", *sock.getsockname()[:2])
        supervisor = Workers(dsn, sock, count, verbose=verbose, projector=settings.run_projector)
        supervisor.run()
        if supervisor.failed:
            raise click.ClickException("a process kept failing at its start (log above)")
        return
    # The app gets the resolved DSN, so its lifespan doesn't start the embedded server again.
    app = create_server(replace(settings, database_url=dsn))
    logger.info("serving with uvicorn; access log %s", "on" if settings.access_log else "off")
    uvicorn.run(
        app, host=host or settings.host, port=port or settings.port, **uvicorn_options(settings)
    )


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent is gone stops (where PR_SET_PDEATHSIG is not there to do it)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    logger.warning("the server (pid %d) is gone; this worker stops", parent)
    os.kill(os.getpid(), signal.SIGTERM)


@main.command(name="migrate")
def migrate_command() -> None:
    """Apply pending database migrations (safe to run while servers are up)."""
    dsn = resolve_dsn(load_settings())
    applied = asyncio.run(migrate(dsn))
    for migration in applied:
        click.echo(f"applied {migration.filename}")
    if not applied:
        click.echo("database is up to date")


@main.command(name="load-sample")
@click.option("--force", is_flag=True, help="Load even if the log already holds events.")
def load_sample_command(*, force: bool) -> None:
    """Load the bundled sample (the Dec 2024 reports) into an empty log."""
    dsn = resolve_dsn(load_settings())
    asyncio.run(_prepare(dsn, load_sample=True, force=force))


@main.command(name="db-url")
def db_url() -> None:
    """Print the PostgreSQL connection string in use (e.g. for `psql "$(frontline db-url)"`).

    Starts the embedded server if DATABASE_URL is unset.
    """
    click.echo(resolve_dsn(load_settings()))


@main.command(name="stop-db")
def stop_db() -> None:
    """Stop the embedded PostgreSQL (it keeps running after `serve` exits, by design)."""
    settings = load_settings()
    if settings.database_url:
        raise click.UsageError("DATABASE_URL is set: there is no embedded server to stop")
    stopped = stop_embedded_server(settings.data_dir)
    click.echo("stopped" if stopped else "not running")


async def _prepare(dsn: str, *, load_sample: bool, force: bool = False) -> None:
    """Migrate, rebuild read models an upgrade made outdated; then, if asked and the log is
    empty (or `force`), load the sample once."""
    await migrate(dsn)
    connection = await asyncpg.connect(dsn)
    try:
        await rebuild_if_outdated(connection)
        if not load_sample:
            return
        # Two servers starting together must not both load the sample.
        await connection.execute("SELECT pg_advisory_lock($1)", SAMPLE_LOCK_KEY)
        try:
            position = await connection.fetchval(HEAD)
            if position and not force:
                logger.info("log holds %d events: not loading the sample", position)
                return
            loaded = await asyncio.to_thread(_load_sample, dsn)
            logger.info("loaded the sample: %d events", loaded)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", SAMPLE_LOCK_KEY)
    finally:
        await connection.close()


def _load_sample(dsn: str) -> int:
    """Run `frontline.sample.load_sample` against the eventsourcing application (synchronous)."""
    application = Frontline(env=eventsourcing_env(dsn))
    try:
        return load_sample(application)
    finally:
        application.close()


@main.command()
def project() -> None:
    """Run the projector alone, keeping the read models up to date until interrupted.

    `serve` already runs one; use this for a dedicated projector process. Only one projector
    works at a time (a PostgreSQL advisory lock); others stand by and take over.
    """
    parent = die_with_parent()  # started by `serve`: never outlive it
    dsn = resolve_dsn(load_settings())

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if parent is None:
            await migrate(dsn)  # under `serve`, the server has just migrated
            click.echo("projecting; Ctrl-C to stop")
            await Projector(dsn).run(stop)
            return
        watching = asyncio.create_task(watch_parent(parent, stop))
        await Projector(dsn).run(stop)
        await watching

    asyncio.run(run())


@main.command()
@click.option("--batch", default=1000, show_default=True, help="Events per transaction.")
def rebuild(batch: int) -> None:
    """Replay the whole log into fresh read models and swap them in atomically.

    The running read models keep serving meanwhile; the result is identical to what the
    projector built incrementally.
    """
    dsn = resolve_dsn(load_settings())

    async def run() -> int:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            head = await head_position(conn)
            with click.progressbar(length=head, label="rebuilding", show_pos=True) as bar:
                return await rebuild_read_models(
                    conn, limit=batch, progress=lambda applied, _: bar.update(applied)
                )
        finally:
            await conn.close()

    click.echo(f"rebuilt the read models from {asyncio.run(run())} events")


@main.command(name="export")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write here instead of standard output.",
)
@click.option(
    "--format", "file_format", type=click.Choice(["ndjson", "acled-csv"]), default="ndjson",
    show_default=True,
    help="ndjson: the whole log (a backup); acled-csv: the incidents in ACLED's layout.",
)  # fmt: skip
@click.option(
    "--as-of",
    help="acled-csv: only incidents that may have happened before then (a date: the end "
    "of that day, UTC; or an ISO 8601 time with its offset).",
)
@click.option("--known-at", help="acled-csv: as Frontline knew them then (same layouts).")
@click.option(
    "--after", type=click.IntRange(min=0),
    help="ndjson: only the events after this position (an increment of an earlier export).",
)  # fmt: skip
@click.option(
    "--append", is_flag=True,
    help="ndjson: add to the --output file what the log holds after its last event (for a "
    "cron job keeping a copy); a last line cut short by a killed run is written again.",
)  # fmt: skip
def export_command(
    output: Path | None, file_format: str, as_of: str | None, known_at: str | None,
    after: int | None, append: bool,
) -> None:  # fmt: skip
    """Back up the whole event log as NDJSON: one event per line, with its position and
    record time. Read models are not exported (`frontline import` rebuilds them). With
    --after or --append, only what is new: `frontline import BASE INCREMENT...` restores
    them together.

    Or, with --format acled-csv, write the incidents in ACLED's layout (ACLED's columns,
    then Frontline's frontline_* columns), each as last revised, retracted ones left out:
    `frontline import-acled` reads it back.

    Consistent while servers keep writing: the export is the log as of its start.
    Progress goes to standard error.
    """
    if file_format == "ndjson" and (as_of or known_at):
        raise click.UsageError("--as-of and --known-at go with --format acled-csv")
    if file_format != "ndjson" and (after is not None or append):
        raise click.UsageError("--after and --append go with --format ndjson")
    if append and (output is None or after is not None):
        raise click.UsageError("--append needs --output (the file to add to), without --after")
    cut = _instant(as_of, "--as-of"), _instant(known_at, "--known-at")
    dsn = resolve_dsn(load_settings())

    if append:
        assert output is not None  # noqa: S101 - checked above
        written = _export_appending(dsn, output)
        click.echo(f"appended {written} events to {output}", err=True)
        return

    async def run(out: Any) -> int:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            if file_format == "acled-csv":
                await rebuild_if_outdated(conn)
                await catch_up(conn)
                known = await known_position(conn, cut[1]) if cut[1] else None
                total = await conn.fetchval("SELECT count(*) FROM rm.incidents")
                with _progressbar(total, "exporting") as bar:
                    return await export_acled(
                        conn, out, as_of=cut[0], known_position=known, progress=bar.update
                    )
            return await _export_ndjson(conn, out, after or 0)
        finally:
            await conn.close()

    if output is None:
        written = asyncio.run(run(sys.stdout))
    else:
        # Write beside the target and rename: a failed export never leaves a truncated file.
        partial = output.with_name(output.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            written = asyncio.run(run(out))
        partial.replace(output)
    click.echo(f"exported {written} {'events' if file_format == 'ndjson' else 'incidents'}",
               err=True)  # fmt: skip


async def _export_ndjson(conn: Any, out: Any, after: int) -> int:
    with _progressbar(await export_head(conn, after), "exporting") as bar:
        return await export_log(conn, out, progress=bar.update, after=after)


def _export_appending(dsn: str, output: Path) -> int:
    """Append to ``output`` the events after its last one. A line cut short by a killed
    run is cut off first; should this run fail, the file is cut back to where it was."""
    output.touch()
    with output.open("r+b") as backup:
        try:  # two cron runs overlapping must not interleave their lines
            fcntl.flock(backup, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise click.ClickException(f"another export is appending to {output}") from None
        try:
            last, whole = last_event(backup)
        except BackupError as error:
            raise click.ClickException(f"{output}: {error}") from None
        after = 0 if last is None else int(last["position"])

        async def run() -> int:
            await migrate(dsn)
            conn = await asyncpg.connect(dsn)
            try:
                if last is not None and not await holds_event(conn, last):
                    raise click.ClickException(
                        f"{output} ends with an event this log does not hold at position "
                        f"{after}: it is a copy of another log"
                    )
                backup.truncate(whole)  # a last line cut short is written again
                backup.seek(whole)
                out = io.TextIOWrapper(backup, encoding="utf-8", newline="")
                try:
                    written = await _export_ndjson(conn, out, after)
                    out.flush()
                    os.fsync(backup.fileno())  # on disk before we say so
                    return written
                except BaseException:
                    out.flush()
                    backup.truncate(whole)
                    raise
                finally:
                    out.detach()  # flushed; `backup` stays open for its own `with`
            finally:
                await conn.close()

        return asyncio.run(run())


def _instant(text: str | None, option: str) -> datetime | None:
    """A date (the end of that day, UTC) or an ISO 8601 time with its UTC offset."""
    if not text:
        return None
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date or an ISO 8601 time", param_hint=option
        ) from None
    if instant.tzinfo is None:
        raise click.BadParameter("give the time's UTC offset (e.g. +00:00)", param_hint=option)
    return instant


@main.command(name="import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--batch", default=1000, show_default=True, help="Events per rebuild transaction.")
def import_command(files: tuple[Path, ...], batch: int) -> None:
    """Restore a log written by `frontline export` into an EMPTY database, keeping every
    event's position and original record time, then rebuild the read models. Give a base
    export and then its increments (`export --after`), in order: together they must hold
    every position from 1 without a gap.

    All or nothing: on any error (the log is not empty, a malformed line, a gap) nothing is
    imported.
    """
    dsn = resolve_dsn(load_settings())

    async def run(lines: Iterator[bytes], size: int) -> int:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            with _progressbar(size, "importing") as bar:
                imported = await import_log(conn, lines, progress=bar.update)
            with _progressbar(imported, "rebuilding") as bar:
                await rebuild_read_models(
                    conn, limit=batch, progress=lambda applied, _: bar.update(applied)
                )
            return imported
        finally:
            await conn.close()

    try:
        with contextlib.ExitStack() as stack:
            opened = [stack.enter_context(file.open("rb")) for file in files]
            lines = itertools.chain.from_iterable(bounded_lines(f) for f in opened)
            imported = asyncio.run(run(lines, sum(file.stat().st_size for file in files)))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"imported {imported} events and rebuilt the read models", err=True)


@main.command(name="import-control")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-of", help="When the states held, for rows without as_of: a date (day "
              "precision) or an ISO 8601 time with its UTC offset.")  # fmt: skip
@click.option("--source", help="Who says so, for rows without a source (an outlet's name).")
@click.option(
    "--tier",
    type=click.Choice([t.value for t in AssessmentTier]),
    default=AssessmentTier.ASSESSED.value,
    show_default=True,
    help="For rows without a tier: a judgement, a party's claim, or verified.",
)
@click.option("--country", help="The country of places to register, for rows without one.")
@click.option(
    "--offset", default="+00:00", show_default=True, help="The UTC offset of a date-only as_of."
)
def import_control_command(
    file: Path, as_of: str | None, source: str | None, tier: str, country: str | None,
    offset: str,
) -> None:  # fmt: skip
    """Record a baseline of who held what: one control assessment per place.

    FILE is a CSV with a header (place, name, latitude, longitude, kind, country, admin_area,
    holders, status, as_of, source, tier; holders separated by ';') or a GeoJSON
    FeatureCollection of points with the same properties (what controlMapGeoJson emits).
    Places the log does not hold are registered. All or nothing, in one atomic batch: any
    bad row is reported by its line and nothing is written. Importing the same file again
    records nothing new. The read models pick the assessments up as the server projects.
    """
    if file.stat().st_size > BASELINE_MAX_BYTES:
        raise click.ClickException(f"{file} is over {BASELINE_MAX_BYTES // 2**20} MiB: split it")
    try:
        defaults = BaselineDefaults(
            as_of=as_of, source=source, tier=AssessmentTier(tier), country=country,
            offset=parse_offset(offset),
        )  # fmt: skip
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--offset") from None
    data = file.read_bytes()
    dsn = resolve_dsn(load_settings())
    asyncio.run(migrate(dsn))
    application = Frontline(env=eventsourcing_env(dsn))
    try:
        rows = read_rows(data)
        click.echo(f"read {len(rows)} rows from {file.name}", err=True)
        places, actors = referenced(rows)
        found = asyncio.run(_registered(dsn, places | actors))
        for aggregate_id, cls in found.items():
            application.know(aggregate_id, cls)
        with _progressbar(len(rows), "checking") as bar:
            commands, registered = baseline_commands(
                _counted(rows, bar.update), file_digest(data), defaults, found.__contains__
            )
        click.echo(f"recording {len(commands)} commands in one batch…", err=True)
        receipts = application.execute_batch(commands)
    except BaselineError as error:
        raise click.ClickException(f"nothing was recorded:\n{error}") from None
    except DomainError as error:  # e.g. a place registered meanwhile with other details
        raise click.ClickException(f"nothing was recorded: {error.message}") from None
    finally:
        application.close()
    assessments = receipts[registered:]
    new = sum(1 for receipt in assessments if not receipt.replayed)
    click.echo(
        f"registered {registered} places and recorded {new} assessments"
        f" ({len(assessments) - new} already recorded)",
        err=True,
    )


async def _registered(dsn: str, ids: set[UUID]) -> dict[UUID, type]:
    conn = await asyncpg.connect(dsn)
    try:
        return await registered(conn, ids)
    finally:
        await conn.close()


def _counted(rows: list[Any], advance: Callable[[int], None]) -> Iterator[Any]:
    for row in rows:
        yield row
        advance(1)


def _progressbar(length: int, label: str) -> Any:
    """A progress bar on standard error (standard output may be the export itself)."""
    return click.progressbar(length=length, label=label, show_pos=True, file=sys.stderr)


@main.group()
def keys() -> None:
    """Manage API keys (writes need a writer or admin key; reads are open by default)."""


@keys.command(name="create")
@click.option("--name", required=True, help="Who the key is for; recorded on every write.")
@click.option(
    "--role",
    type=click.Choice(["reader", "writer", "admin"]),
    default="writer",
    show_default=True,
    help="reader: read when reads are closed; writer: record; admin: everything.",
)
def keys_create(name: str, role: str) -> None:
    """Create a key and print it once (only its hash is stored)."""
    try:
        name = check_key_name(name)
    except KeyNameError as error:
        raise click.BadParameter(str(error), param_hint="--name") from None
    key = _with_connection(lambda conn: create_key(conn, name, Role.named(role)))
    click.echo(key)


@keys.command(name="list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    for info in _with_connection(list_keys):
        state = f"revoked {info.revoked_at:%Y-%m-%d}" if info.revoked_at else "active"
        click.echo(f"{info.id}  {info.role.name.lower():6}  {state:18}  {info.name}")


@keys.command(name="revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id (from `frontline keys list`); it is refused from then on."""
    try:
        parsed = UUID(key_id)
    except ValueError:
        raise click.BadParameter("not a key id", param_hint="KEY_ID") from None
    if not _with_connection(lambda conn: revoke_key(conn, parsed)):
        raise click.ClickException("no active key with that id")
    click.echo("revoked")


def _with_connection(action: Callable[[Any], Awaitable[T]]) -> T:
    dsn = resolve_dsn(load_settings())

    async def run() -> T:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            return await action(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


main.add_command(import_acled_command)
