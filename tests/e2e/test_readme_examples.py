"""Every ```graphql block of README.md, run in order against a server holding the sample.

The README promises they work as-is against a fresh `make run`; this keeps that true.
Mutations are sent with a writer key (the README says how to get one); a block that declares
`$before` or `$incident` gets what the README tells the reader to paste: the `recordedAt` of
the `Recorded` entry in the history the previous block returned, or the `id` the last
mutation returned; one that declares `$csv` (importAcled) gets the bundled ACLED fixture's
text, sent with the admin key it needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.graphql_client import ask
from tests.support.sample_server import Server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ACLED_FIXTURE = ROOT / "frontline" / "sample" / "acled" / "syria-2024-11.csv"
BLOCK = re.compile(r"^```graphql\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_the_promised_examples() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 6
    assert any(b.lstrip().startswith("mutation") for b in blocks)
    assert any("fresh(position:" in b for b in blocks)
    assert any("knownAt" in b for b in blocks)


def _recorded_at(body: dict[str, Any]) -> str | None:
    for payload in (body.get("data") or {}).values():
        if not isinstance(payload, dict) or not isinstance(payload.get("incident"), dict):
            continue
        history = payload["incident"].get("history") or []
        for entry in history:
            if entry["type"] == "Recorded":
                return str(entry["recordedAt"])
    return None


def _returned_id(body: dict[str, Any]) -> str | None:
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict) and isinstance(payload.get("id"), str):
            return payload["id"]
    return None


def test_every_readme_query_runs_without_errors(server: Server) -> None:
    before: str | None = None
    incident: str | None = None
    for block in readme_blocks():
        is_mutation = block.lstrip().startswith("mutation")
        variables = {"before": before} if "$before" in block else {}
        if "$incident" in block:
            variables["incident"] = incident
        key = server.writer_key if is_mutation else None
        if "$csv" in block:
            variables["csv"] = ACLED_FIXTURE.read_text(encoding="utf-8")
            key = server.admin_key
        body = ask(server, block, key, **variables)
        assert "errors" not in body, (block, body["errors"])
        assert body["data"], block
        before = _recorded_at(body) or before
        incident = _returned_id(body) or incident


def test_the_readme_story_holds(server: Server) -> None:
    """The blocks ran above (same module server): the beliefs they describe are there."""
    [story] = [b for b in readme_blocks() if "knownThen" in b]
    body = ask(server, story, None, before=_capture_recorded_at(server))
    assert body["data"]["knownThen"]["disputed"] is False
    assert body["data"]["knownNow"]["disputed"] is True
    assert body["data"]["knownNow"]["controllers"] == [{"slug": "hts"}]


def _capture_recorded_at(server: Server) -> str:
    body = ask(
        server,
        """{ incidents(first: 1, filter: {kinds: [CAPTURE], place: "hama-military-airport"}) {
             nodes { history { type recordedAt } } } }""",
    )
    [capture] = body["data"]["incidents"]["nodes"]
    return str(capture["history"][0]["recordedAt"])
