"""Fixtures of the integration tests (a real PostgreSQL, no server process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.in_process import InProcess, sample_in_process


@pytest.fixture(scope="module")
def api(postgres_dsn: str) -> Iterator[InProcess]:
    """The schema over a fresh database holding the bundled sample, with reader, writer and
    admin keys."""
    with sample_in_process(postgres_dsn) as client:
        yield client
