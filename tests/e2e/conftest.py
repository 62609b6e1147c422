"""A running `frontline serve` with the bundled sample and API keys, for over-the-wire tests.

Module-scoped: one server per test module. Tests that write use their own idempotency keys
and slugs, so they don't step on each other or on the sample.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sample_server import Server, start_server


@pytest.fixture(scope="module")
def server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on a fresh database holding the bundled sample, with reader/writer/admin keys."""
    log = tmp_path_factory.mktemp("server") / "serve.log"
    yield from start_server(postgres_dsn, log)
