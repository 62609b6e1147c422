"""`make soak`: readers, subscribers and writers against one real server for a while.

Starts `frontline serve` on a fresh database with the sample, runs the load from a separate
process (`bench.soak_load`), and reports errors (target 0), read latencies, incidents
delivered vs appended for every subscriber (target equal), and the server's RSS at start and
end. Writes bench/soak-results.md. Asserts nothing; exits non-zero only if the soak crashed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import click
import httpx

from api.auth import Role, create_key
from bench.control_queries import drop_database, fresh_database
from bench.processes import clean_env, free_port, interrupt
from frontline.config import load_settings
from frontline.database import resolve_dsn


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _key(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return await create_key(conn, "soak writer", Role.WRITER)
    finally:
        await conn.close()


@click.command()
@click.option("--seconds", default=60, show_default=True, help="How long the load runs.")
@click.option("--clients", default=200, show_default=True, help="Concurrent HTTP readers.")
@click.option("--subscribers", default=500, show_default=True, help="WebSocket subscribers.")
@click.option("--writers", default=4, show_default=True, help="Concurrent writers.")
@click.option("--out", default="bench/soak-results.md", show_default=True, type=Path)
@click.option(
    "--processes", default=1, show_default=True, type=click.IntRange(1, 8),
    help="Separate `frontline serve` processes on one database, as on several machines: "
    "each with its projector (one leads); the load is spread over them.",
)  # fmt: skip
def main(
    seconds: int, clients: int, subscribers: int, writers: int, out: Path, processes: int
) -> None:
    """Soak a real server (or several) with concurrent readers, subscribers and writers."""
    admin_dsn = resolve_dsn(load_settings())
    dsn = asyncio.run(fresh_database(admin_dsn))
    key = asyncio.run(_key(dsn))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        # The first loads the sample; the others start once it has (one loader, not a race).
        urls, after = [], 0
        for n in range(processes):
            url, server, log = _serve(dsn, n, load_sample=n == 0)
            servers.append(server)
            urls.append(url)
            after = _wait_until_projected(url, server, log)
        start_rss = [rss_mb(server.pid) for server in servers]
        spec = {"urls": urls, "key": key, "seconds": seconds, "clients": clients,
                "subscribers": subscribers, "writers": writers, "after": after}  # fmt: skip
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.soak_load", json.dumps(spec)],
            capture_output=True, text=True, check=False, timeout=seconds + 600,
        )  # fmt: skip
        end_rss = [rss_mb(server.pid) for server in servers]
        if done.returncode != 0:
            raise click.ClickException(f"load process failed:\n{done.stderr[-3000:]}")
        report: dict[str, Any] = json.loads(done.stdout)
    finally:
        for server in servers:
            interrupt(server, timeout=20)
        asyncio.run(drop_database(admin_dsn, dsn))
    report |= {
        "rss_start_mb": [round(mb, 1) for mb in start_rss],
        "rss_end_mb": [round(mb, 1) for mb in end_rss],
        **spec,
    }
    report.pop("key")
    text = markdown(report)
    click.echo(text)
    out.write_text(text)


def _serve(dsn: str, n: int, *, load_sample: bool) -> tuple[str, subprocess.Popen[bytes], Path]:
    port = free_port()
    env = clean_env(DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE=str(load_sample).lower())
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"frontline-soak-server-{n}.log"  # noqa: S108
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "frontline", "serve", "--port", str(port)],
            env=env | {"FRONTLINE_ACCESS_LOG": "false"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return f"http://127.0.0.1:{port}", server, log


def _wait_until_projected(url: str, server: subprocess.Popen[bytes], log: Path) -> int:
    """Healthy, and the sample projected; the log's head position then (the subscribers'
    cursor: they are owed exactly what the writers append after it)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise click.ClickException(f"serve exited:\n{log.read_text()[-3000:]}")
        try:
            health = httpx.get(url + "/healthz", timeout=5)
            if health.status_code == 200:
                head: int = health.json()["position"]
                fresh = {"query": f"{{ fresh(position: {head}) {{ __typename }} }}"}
                if httpx.post(url + "/graphql", json=fresh, timeout=15).json().get("data"):
                    return head
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.3)
    raise click.ClickException(f"serve not ready after 120 s:\n{log.read_text()[-3000:]}")


def markdown(r: dict[str, Any]) -> str:
    latency = r["read_latency"] or {}
    receipt = r.get("receipt") or {}
    processes = r.get("processes") or []
    against = (
        "one `frontline serve`"
        if len(processes) <= 1
        else f"{len(processes)} `frontline serve` processes on one database (each with its "
        "projector, one leading), the load spread over them"
    )
    per_process = "; ".join(
        f"{p['subscribers']} subscribers, {p['complete']} complete" for p in processes
    )
    return "\n".join(
        [
            "# Soak",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores: "
            f"{r['clients']} HTTP readers, {r['subscribers']} subscribers and {r['writers']} "
            f"writers for {r['seconds']} s against {against} (loopback). Half the "
            "subscribers resume from the log's head, half follow live from now.",
            "",
            "| measure | value | target |",
            "|---|---|---|",
            f"| errors (reads + writes) | {r['error_count']} | 0 |",
            f"| reads | {r['reads']:,} | |",
            f"| read latency p50 / p99 | {latency.get('p50_ms', 0):.1f} / "
            f"{latency.get('p99_ms', 0):.1f} ms | |",
            f"| write request → subscriber receipt p50 / p99 | {receipt.get('p50_ms', 0):.1f} / "
            f"{receipt.get('p99_ms', 0):.1f} ms | |",
            f"| per process | {per_process} | all complete |",
            f"| incidents appended | {r['appended']} | |",
            f"| subscribers that received every one, in order, once | "
            f"{r['subscribers_complete']} of {r['subscribers']} | all |",
            f"| of which live from now (shared streams), complete | {r['live_complete']} of "
            f"{r['live']} | all |",
            f"| incidents received per subscriber, min / max | {r['min_received']} / "
            f"{r['max_received']} | {r['appended']} / {r['appended']} |",
            f"| subscribers short / out of order or duplicated | {r['subscribers_short']} / "
            f"{r['subscribers_out_of_order_or_duplicate']} | 0 / 0 |",
            f"| server RSS start → end | {r['rss_start_mb']} → {r['rss_end_mb']} MB "
            "(a process each) | bounded |",
            "",
            f"Errors (first 20): {r['errors'] or 'none'}",
            f"Subscriber errors: {r['subscriber_errors'] or 'none'}",
            "",
        ]
    )


if __name__ == "__main__":
    main()
