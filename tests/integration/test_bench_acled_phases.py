"""The phase timer of an ACLED import (bench/acled_phases.py) runs the import it times: every
row recorded, every phase measured. It asserts nothing about speed (a benchmark's job)."""

from __future__ import annotations

import asyncio

from bench.acled_phases import PHASES, phases


def test_every_phase_of_a_small_import_is_timed(postgres_dsn: str) -> None:
    got = asyncio.run(phases(postgres_dsn, 300))
    assert set(got) == {*PHASES, "rows_per_s", "recorded"}
    assert got["recorded"] == 300
    assert all(got[phase] > 0 for phase in PHASES)
