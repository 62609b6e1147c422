"""Fixtures of the integration tests (a real PostgreSQL, no server process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import Frontline
from frontline.database import eventsourcing_env
from tests.support.in_process import InProcess, sample_in_process


@pytest.fixture
def app(database_dsn: str) -> Iterator[Frontline]:
    """The write side on the test's migrated, empty database."""
    application = Frontline(env=eventsourcing_env(database_dsn))
    yield application
    application.close()


@pytest.fixture(scope="module")
def api(postgres_dsn: str) -> Iterator[InProcess]:
    """The schema over a fresh database holding the bundled sample, with reader, writer and
    admin keys."""
    with sample_in_process(postgres_dsn) as client:
        yield client
