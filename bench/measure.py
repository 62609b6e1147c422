"""Timing helpers: run a coroutine many times and report percentiles (medians of runs)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    samples: int

    def __str__(self) -> str:
        return f"p50 {self.p50_ms:.2f} / p95 {self.p95_ms:.2f} / p99 {self.p99_ms:.2f} ms"


async def latency(call: Callable[[int], Awaitable[object]], samples: int) -> Latency:
    """Time ``call(i)`` for i in range(samples), one at a time."""
    times = []
    for i in range(samples):
        start = time.perf_counter()
        await call(i)
        times.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return Latency(statistics.median(times), cuts[94], cuts[98], samples)
