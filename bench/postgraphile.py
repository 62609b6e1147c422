"""A peer for the small-query throughput row: PostGraphile 4 (Node.js), serving the same
``rm.places`` row from the same database, so its req/s can sit beside Frontline's.

PostGraphile is pinned exactly in ``bench/peer/package.json`` and its lock file and installed
into ``bench/peer/node_modules`` (ignored by git) by ``npm ci`` on first use; no Node.js, no
row (``ensure_installed`` returns None and the caller says why).

The CLI runs with production-ish settings, comparable to how the benchmark runs Frontline:

- ``--schema rm``: the read models only, as Frontline's queries read them.
- ``--host 127.0.0.1 --port N``: loopback, a free port (``bench.processes.free_port``).
- ``--disable-graphiql``: no IDE route (Frontline's playground is not on the hot path either).
- ``--disable-query-log``: PostGraphile otherwise logs every query to the console, which its
  own docs say costs throughput; the benchmark runs Frontline with its access log off too.
- ``--disable-default-mutations``: a read-only peer; the CRUD mutations it would generate on
  ``rm`` (it connects as a superuser) are not what it is here for.
- ``--max-pool-size 10``: the size of Frontline's API pool (``frontline.database.create_pool``).
- No ``--watch``, ``--subscriptions``, ``--live`` or ``--cluster-workers``: one Node process
  with a schema built once, as Frontline runs one uvicorn process. ``NODE_ENV=production``
  (graphql-js and graphile-build skip their development checks); the default, non-"turbo"
  build (``GRAPHILE_TURBO`` unset).

The connection string goes in ``DATABASE_URL`` (the CLI reads it when ``--connection`` is
absent), which keeps any password out of the process list. The benchmark's DSNs are libpq/asyncpg
URIs, possibly with a UNIX socket directory and no host, e.g.
``postgresql://postgres:@/db?host=/tmp/x/pg``. node-postgres (pg-connection-string) reads
those as libpq does: a ``host`` query parameter wins over the (empty) URI host, a host that
starts with ``/`` is a socket directory (``<dir>/.s.PGSQL.<port>``), and a missing port is 5432
or ``PGPORT``. So the DSN is passed through unchanged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import httpx

from bench.processes import clean_env, free_port, wait_ready

PEER_DIR = Path(__file__).resolve().parent / "peer"
CLI = PEER_DIR / "node_modules" / ".bin" / "postgraphile"
NO_NODE = "Node.js (node and npm) is not installed"

FLAGS = (
    "--schema", "rm",
    "--host", "127.0.0.1",
    "--disable-graphiql",
    "--disable-query-log",
    "--disable-default-mutations",
    "--max-pool-size", "10",
)  # fmt: skip

#: The same fields as ``bench.load.SMALL``, through PostGraphile's field for the unique slug.
PEER_QUERY = "{ placeBySlug(slug: %s) { slug name kind latitude longitude } }"


def body_for(slug: str) -> str:
    """The JSON body wrk POSTs: the peer's query for ``slug``."""
    # A JSON string is a valid GraphQL string literal, whatever the slug holds.
    return json.dumps({"query": PEER_QUERY % json.dumps(slug)})


def ensure_installed() -> Path | None:
    """The PostGraphile CLI, installed from the lock file if needed; None without Node."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        return None
    if _needs_install():
        click.echo("  installing PostGraphile for the peer row (npm ci in bench/peer, once)")
        done = subprocess.run(  # noqa: S603 - npm from PATH, our own arguments
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PEER_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise click.ClickException(f"npm ci in {PEER_DIR} failed:\n{done.stderr}")
    return CLI


def _needs_install() -> bool:
    """No PostGraphile in node_modules, or the lock file changed since npm installed it (as
    scripts/ensure-node decides for tests/audit)."""
    installed = PEER_DIR / "node_modules" / ".package-lock.json"  # npm's record of the install
    if not (PEER_DIR / "node_modules" / "postgraphile").is_dir() or not installed.is_file():
        return True
    return (PEER_DIR / "package-lock.json").stat().st_mtime > installed.stat().st_mtime


@contextmanager
def served_postgraphile(dsn: str, log: Path) -> Iterator[str]:
    """PostGraphile on ``dsn`` on a free loopback port until it answers; its GraphQL URL."""
    cli = ensure_installed()
    if cli is None:
        raise click.ClickException(f"PostGraphile needs Node.js: {NO_NODE}")
    port = free_port()
    env = clean_env(DATABASE_URL=dsn, NODE_ENV="production")
    env.pop("DEBUG", None)  # the `debug` package would log every SQL statement
    with log.open("ab") as output:
        # cwd: the CLI also reads options from ./.postgraphilerc.js; bench/peer has none.
        process = subprocess.Popen(  # noqa: S603 - our own CLI and arguments
            [str(cli), *FLAGS, "--port", str(port)],
            cwd=PEER_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        _wait_until_answering(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    # A query, not a GET: /graphql answers GET with 405, and a query succeeds only once the
    # schema is introspected from the database, which proves the connection string works.
    def answers() -> bool:
        response = httpx.post(url, json={"query": "{ __typename }"}, timeout=5)
        try:
            return response.status_code == 200 and "errors" not in response.json()
        except ValueError:  # not JSON yet (a proxy page, a half-started server)
            return False

    wait_ready(process, "PostGraphile", log, answers)
