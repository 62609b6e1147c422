"""Write tests/golden/log.ndjson: the bundled sample, then every kind of correction, exported
by `frontline export`. Run once, by hand, when the golden log is (re)made; the file is then
committed and never rewritten: tests/integration/test_golden_log.py imports and rebuilds it
forever, so every later release must still read what this one wrote.

    .venv/bin/python tests/golden/make_golden_log.py
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from domain import commands as c
from domain.application import Frontline
from domain.details import Capture, Withdrawal
from domain.identity import actor_id, incident_id, place_id
from domain.values import Source, ValidTime
from frontline.database import eventsourcing_env
from frontline.embedded import start_embedded_server, stop_embedded_server
from frontline.migrate import migrate
from frontline.sample import load_sample

OUT = Path(__file__).with_name("log.ndjson")
WIRE = Source(outlet="Golden Wire", quote="as reported")
ARMY = Source(outlet="Army statement", role="party", quote="denied")


def corrections(app: Frontline) -> None:
    """One of each: a late report, corroborate, dispute, confirm, amend, retract."""

    def capture(key: str, by: str, taken_from: str, place: str, day: int) -> None:
        app.execute(
            c.RecordIncident(
                details=Capture(by=(actor_id(by),), taken_from=actor_id(taken_from)),
                valid_time=ValidTime(datetime(2024, 12, day, 6, tzinfo=UTC), "day"),
                places=(place_id(place),),
                sources=(WIRE,),
                summary=f"golden {key}",
                key=f"golden/{key}",
            )
        )

    capture("late-airport", "hts", "syrian-arab-army", "hama-military-airport", 3)
    capture("erze-retaken", "syrian-arab-army", "hts", "erze", 6)
    capture("wrong-village", "syrian-arab-army", "hts", "kafrtun", 7)
    erze, wrong = incident_id("golden/erze-retaken"), incident_id("golden/wrong-village")
    app.execute(c.Corroborate(erze, Source(outlet="Second wire", quote="also")))
    app.execute(c.Dispute(erze, ARMY, actor_id("hts"), "HTS denies it"))
    app.execute(c.Confirm(erze, Source(outlet="Geolocation", quote="geolocated")))
    app.execute(c.Amend(wrong, "it was Yadgun", places=(place_id("yadgun"),)))
    app.execute(c.Retract(wrong, "old footage"))
    app.execute(
        c.RecordIncident(
            details=Withdrawal(actor=actor_id("hts"), redeployment=True),
            valid_time=ValidTime(datetime(2024, 12, 8, tzinfo=UTC), "day"),
            places=(place_id("erze"),), sources=(WIRE,), key="golden/erze-left",
        )
    )  # fmt: skip


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="fl-golden-"))
    dsn = start_embedded_server(data_dir)
    try:
        asyncio.run(migrate(dsn))
        app = Frontline(env=eventsourcing_env(dsn))
        try:
            load_sample(app)
            corrections(app)
        finally:
            app.close()
        env = {"DATABASE_URL": dsn, "PATH": "/usr/bin:/bin"}
        subprocess.run(
            [sys.executable, "-m", "frontline", "export", "-o", str(OUT)], env=env, check=True
        )
    finally:
        stop_embedded_server(data_dir)
    print(f"wrote {OUT} ({len(OUT.read_text().splitlines())} events)")


if __name__ == "__main__":
    main()
