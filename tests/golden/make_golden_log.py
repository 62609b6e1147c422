"""Write a golden log, exported by `frontline export`. Each is made once, by hand, by the
release that introduced what it holds; the file is then committed and never rewritten:
tests/integration/test_golden_log.py imports and rebuilds every one forever, so every later
release must still read what each release wrote.

    .venv/bin/python tests/golden/make_golden_log.py log            # tests/golden/log.ndjson
    .venv/bin/python tests/golden/make_golden_log.py assessments    # .../assessments.ndjson

``log``: the bundled sample, then every kind of correction. ``assessments`` (the release
that added control assessments): the same, then the bundled baseline and assessments of
every status and tier, corrected.
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
from domain.details import Assessment, Capture, Withdrawal
from domain.identity import actor_id, incident_id, place_id
from domain.values import Source, ValidTime
from frontline.baseline import Defaults, baseline_commands, file_digest, read_rows
from frontline.database import eventsourcing_env
from frontline.embedded import start_embedded_server, stop_embedded_server
from frontline.migrate import migrate
from frontline.sample import load_sample

HERE = Path(__file__).parent
BASELINE = HERE.parents[1] / "frontline" / "sample" / "baseline-2024-11-26.csv"
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


def assessments(app: Frontline) -> None:
    """The bundled baseline (registering Halfaya, Taybat al-Imam and Idlib), then one
    assessment of each status and tier, corroborated, disputed, confirmed, amended and
    retracted."""
    data = BASELINE.read_bytes()
    commands, _ = baseline_commands(read_rows(data), file_digest(data), Defaults(), app.exists)
    app.execute_batch(commands)

    def assess(key: str, status: str, holders: tuple[str, ...], place: str, day: int,
               tier: str) -> None:  # fmt: skip
        app.execute(
            c.RecordIncident(
                details=Assessment(status, tuple(actor_id(h) for h in holders), tier),  # type: ignore[arg-type]
                valid_time=ValidTime(datetime(2024, 12, day, tzinfo=UTC), "day"),
                places=(place_id(place),), sources=(WIRE,), summary=f"golden {key}",
                key=f"golden/{key}",
            )
        )  # fmt: skip

    assess("halfaya-contested", "contested", ("syrian-arab-army", "hts"), "halfaya", 6,
           "claimed")  # fmt: skip
    assess("taybat-unknown", "unknown", (), "taybat-al-imam", 7, "assessed")
    assess("airport-abandoned", "contested", (), "hama-military-airport", 8, "confirmed")
    assess("idlib-wrong", "held", ("syrian-arab-army",), "idlib", 2, "assessed")
    contested, wrong = incident_id("golden/halfaya-contested"), incident_id("golden/idlib-wrong")
    app.execute(c.Corroborate(contested, Source(outlet="Second mapper", quote="also")))
    app.execute(c.Dispute(contested, ARMY, actor_id("syrian-arab-army"), "the army holds it"))
    app.execute(c.Confirm(contested, Source(outlet="Geolocation", quote="geolocated")))
    app.execute(
        c.Amend(wrong, "the map was dated 3 Dec",
                valid_time=ValidTime(datetime(2024, 12, 3, tzinfo=UTC), "day"))
    )  # fmt: skip
    app.execute(c.Retract(wrong, "another city's map"))


def main(name: str) -> None:
    out = HERE / f"{name}.ndjson"
    data_dir = Path(tempfile.mkdtemp(prefix="fl-golden-"))
    dsn = start_embedded_server(data_dir)
    try:
        asyncio.run(migrate(dsn))
        app = Frontline(env=eventsourcing_env(dsn))
        try:
            load_sample(app)
            corrections(app)
            if name == "assessments":
                assessments(app)
        finally:
            app.close()
        env = {"DATABASE_URL": dsn, "PATH": "/usr/bin:/bin"}
        subprocess.run(
            [sys.executable, "-m", "frontline", "export", "-o", str(out)], env=env, check=True
        )
    finally:
        stop_embedded_server(data_dir)
    print(f"wrote {out} ({len(out.read_text().splitlines())} events)")


if __name__ == "__main__":
    if sys.argv[1:] not in (["log"], ["assessments"]):
        sys.exit(__doc__)
    main(sys.argv[1])
