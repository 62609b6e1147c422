"""The GraphQL-over-HTTP spec, as the standard clients expect it: every server audit of the
`graphql-http` package (its reference implementation's `serverAudits`), run with Node.js
against a live server, must pass, warnings included. `scripts/ensure-node` (run by `make
test`) installs the package from the npm registry into tests/audit/node_modules."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.sample_server import Server

pytestmark = pytest.mark.slow

AUDIT = Path(__file__).resolve().parents[1] / "audit"
HINT = "run scripts/ensure-node (make test does) to install the audit's packages"


def audit(server: Server) -> list[dict[str, str]]:
    node = shutil.which("node")
    if node is None or not (AUDIT / "node_modules" / "graphql-http").is_dir():
        pytest.fail(HINT)
    done = subprocess.run(
        [node, str(AUDIT / "audit.mjs"), server.graphql],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results: list[dict[str, str]] = json.loads(done.stdout)
    return results


def test_every_graphql_over_http_audit_passes(server: Server) -> None:
    results = audit(server)
    assert len(results) > 50
    failing = [
        f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"
    ]
    assert failing == [], "\n".join(failing)
