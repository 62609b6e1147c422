"""`importAcled` over HTTP: an admin posts an ACLED file's text to a running server and gets
the import's summary; the same keys as `frontline import-acled`, so either way a file lands
once. Writers and anonymous callers are refused, as are bodies over the limit and, with
`strict`, files with a bad row (nothing written)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench.acled_synthetic import write_file
from tests.integration.test_import_acled import (
    DELETIONS,
    HTS_LED,
    REVISIONS,
    ROWS,
    head,
    import_acled,
)
from tests.support.sample_server import Server

pytestmark = pytest.mark.slow

IMPORT = """mutation ($csv: String!, $deletions: String, $strict: Boolean!, $dry: Boolean!) {
  importAcled(csv: $csv, deletions: $deletions, strict: $strict, dryRun: $dry) {
    rowsRead incidentsRecorded revised retracted unchanged rejected placesCreated
    actorsCreated deletionsNotHeld problems dryRun position } }"""


def post(server: Server, key: str | None, query: str, **variables: Any) -> Any:
    return httpx.post(
        server.graphql, json={"query": query, "variables": variables},
        headers=server.headers(key), timeout=30,
    )  # fmt: skip


def send(server: Server, key: str | None, csv: str, **options: Any) -> Any:
    variables = {"csv": csv, "deletions": None, "strict": False, "dry": False} | options
    return post(server, key, IMPORT, **variables).json()


def holders(server: Server, place: str, day: str, position: int) -> set[str]:
    query = """query ($p: String!, $t: DateTime!, $at: Int!) { fresh(position: $at) {
        controlAt(place: $p, asOf: $t) { controllers { slug } } } }"""
    body = post(server, server.reader_key, query, p=place, t=f"{day}T12:00:00Z", at=position)
    return {c["slug"] for c in body.json()["data"]["fresh"]["controlAt"]["controllers"]}


def test_an_admin_imports_a_file_and_its_revisions_and_reads_the_answers(server: Server) -> None:
    text = ROWS.read_text(encoding="utf-8")
    dry = send(server, server.admin_key, text, dry=True)["data"]["importAcled"]
    assert (dry["dryRun"], dry["incidentsRecorded"]) == (True, 27)

    done = send(server, server.admin_key, text)["data"]["importAcled"]
    assert done == done | {
        "rowsRead": 27, "incidentsRecorded": 27, "revised": 0, "rejected": 0,
        "placesCreated": 16, "actorsCreated": 9, "problems": [], "dryRun": False,
    }  # fmt: skip
    # (21 places and 10 actors on an empty database: the sample's Hama, Aleppo, Homs...
    # and its Military Operations Command are found by slug and admin area, not created.)
    assert holders(server, "damascus", "2024-12-09", done["position"]) == HTS_LED

    again = send(server, server.admin_key, text)["data"]["importAcled"]
    assert (again["incidentsRecorded"], again["unchanged"]) == (0, 27)

    revised = send(
        server, server.admin_key, REVISIONS.read_text(encoding="utf-8"),
        deletions=DELETIONS.read_text(encoding="utf-8"),
    )["data"]["importAcled"]  # fmt: skip
    assert (revised["revised"], revised["retracted"], revised["deletionsNotHeld"]) == (3, 1, 1)


def test_the_cli_and_the_api_import_under_the_same_keys(server: Server) -> None:
    # Through the API (a second time, if another test of the module already did), then the
    # CLI on the same database: it finds every row recorded.
    sent = send(server, server.admin_key, ROWS.read_text(encoding="utf-8"))
    counts = sent["data"]["importAcled"]
    assert counts["incidentsRecorded"] + counts["unchanged"] == 27
    done = import_acled(server.dsn, str(ROWS))
    assert done.returncode == 0, done.stderr
    assert "incidents recorded: 0;" in done.stderr


def test_writers_and_anonymous_callers_may_not_import(server: Server) -> None:
    short = "\n".join(ROWS.read_text(encoding="utf-8").splitlines()[:2])
    writer = send(server, server.writer_key, short)
    assert writer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = send(server, None, short)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A whole file is a string longer than any other input: only an admin may send one.
    whole = post(server, server.writer_key, IMPORT, csv=ROWS.read_text(encoding="utf-8"),
                 strict=False, dry=False)  # fmt: skip
    assert whole.status_code == 400
    assert "a string of the request is over 10,000 characters" in whole.text


def test_strict_refuses_a_file_with_a_bad_row_and_writes_nothing(server: Server) -> None:
    lines = ROWS.read_text(encoding="utf-8").splitlines()
    good = lines[1].replace("SYRF001", "SYRX001", 1)
    bad = lines[2].replace("SYRF002", "SYRX002", 1).replace("2024-11-27", "soon", 1)
    before = head(server.dsn)
    body = send(server, server.admin_key, "\n".join([lines[0], good, bad]), strict=True)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert "csv:3: event_date: 'soon' is not a date" in error["message"]
    assert head(server.dsn) == before

    lenient = send(server, server.admin_key, "\n".join([lines[0], good, bad]))
    summary = lenient["data"]["importAcled"]
    assert (summary["incidentsRecorded"], summary["rejected"]) == (1, 1)
    assert summary["problems"] == ["csv:3: event_date: 'soon' is not a date"]


def test_a_file_that_is_not_acled_or_over_the_body_limit_is_refused(server: Server) -> None:
    body = send(server, server.admin_key, "name,place\nx,y\n")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "the header lacks ACLED's event_id_cnty" in body["errors"][0]["message"]
    huge = "x" * (1024 * 1024 + 1)
    assert (
        post(server, server.admin_key, IMPORT, csv=huge, strict=False, dry=False).status_code == 413
    )


def test_an_import_whose_client_hangs_up_keeps_whole_chunks_and_resumes(
    server: Server, tmp_path: Path
) -> None:
    """2,000 rows (what fits the body limit) posted by a client that gives up after a
    fraction of a second: the import stops at a chunk's end (nothing half-recorded), the next
    import waits for it and records exactly the rest, and every row is in the log once.
    (Whether the first attempt got through none, one or both chunks depends on the machine:
    each is whole.)"""
    text = write_file(tmp_path / "synthetic.csv", 2_000, seed=11).read_text(encoding="utf-8")
    variables = {"csv": text, "deletions": None, "strict": False, "dry": False}
    with pytest.raises(httpx.TimeoutException):
        httpx.post(server.graphql, json={"query": IMPORT, "variables": variables},
                   headers=server.headers(server.admin_key), timeout=0.3)  # fmt: skip
    rest = send(server, server.admin_key, text)["data"]["importAcled"]
    assert rest["rowsRead"] == 2_000
    assert rest["rejected"] == 0
    assert rest["incidentsRecorded"] + rest["unchanged"] == 2_000
    assert rest["unchanged"] % 1_000 == 0  # whole chunks of the first attempt
    assert asyncio.run(_recorded_once(server.dsn)) == 2_000


async def _recorded_once(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        keys = await conn.fetch(
            "SELECT convert_from(state, 'UTF8')::jsonb #>> '{meta,_data_,key}' AS key"
            "  FROM public.frontline_events WHERE topic = 'domain.incidents:Incident.Recorded'"
        )
    finally:
        await conn.close()
    synthetic = [k["key"] for k in keys if re.fullmatch(r"acled/SYR\d+", k["key"] or "")]
    assert len(synthetic) == len(set(synthetic))  # no row twice
    return len(synthetic)
