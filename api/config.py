"""Settings from the environment — the one module that reads it.

Everything else receives a `Settings` value, so tests and the CLI can build one explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.config import Config


@dataclass(frozen=True, slots=True)
class Settings:
    """How to reach PostgreSQL and how to serve.

    `database_url` unset means: run the embedded PostgreSQL (api/embedded.py) under `data_dir/pg`.
    """

    database_url: str | None = None
    data_dir: Path = Path(".frontline")
    host: str = "127.0.0.1"
    port: int = 8000
    load_sample: bool = True
    # Run the projector inside this process (it elects one leader across processes, so
    # leaving it on everywhere is safe); off for API-only replicas.
    run_projector: bool = True
    # Anyone may read without a key (writes always need one).
    open_reads: bool = True
    # uvicorn's per-request access log (off for benchmarks and soaks).
    access_log: bool = True
    # Larger request bodies are refused with 413 (a GraphQL request is a few KiB).
    max_body_bytes: int = 1024 * 1024
    # Rows of each subscription feed kept in memory for live subscribers (api.broadcast);
    # a subscriber further behind reads from the database instead.
    subscription_buffer: int = 1024
    # permessage-deflate on WebSockets (see the README's design notes for why it is off).
    ws_compression: bool = False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read `Settings` from the process environment, or from `environ` when given (tests)."""
    config = Config() if environ is None else Config(environ=environ)
    database_url = config("DATABASE_URL", cast=str, default="") or None
    return Settings(
        database_url=database_url,
        data_dir=config("FRONTLINE_DATA_DIR", cast=Path, default=Path(".frontline")),
        host=config("FRONTLINE_HOST", cast=str, default="127.0.0.1"),
        port=config("FRONTLINE_PORT", cast=int, default=8000),
        load_sample=config("FRONTLINE_LOAD_SAMPLE", cast=bool, default=True),
        run_projector=config("FRONTLINE_RUN_PROJECTOR", cast=bool, default=True),
        open_reads=config("FRONTLINE_OPEN_READS", cast=bool, default=True),
        access_log=config("FRONTLINE_ACCESS_LOG", cast=bool, default=True),
        max_body_bytes=config("FRONTLINE_MAX_BODY_BYTES", cast=int, default=1024 * 1024),
        subscription_buffer=config("FRONTLINE_SUBSCRIPTION_BUFFER", cast=int, default=1024),
        ws_compression=config("FRONTLINE_WS_COMPRESSION", cast=bool, default=False),
    )
