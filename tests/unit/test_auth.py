"""API keys: only a hash is stored, and secrets are compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from api import auth
from api.auth import Role, authenticate, create_key


class FakeConnection:
    """Records what is written; answers lookups from what was written."""

    def __init__(self) -> None:
        self.rows: dict[Any, dict[str, Any]] = {}
        self.written: list[tuple[Any, ...]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.written.append(args)
        key_id, name, role, digest = args
        self.rows[key_id] = {"name": name, "role": role, "secret_sha256": digest}
        return "INSERT 0 1"

    async def fetchrow(self, sql: str, key_id: Any) -> dict[str, Any] | None:
        return self.rows.get(key_id)


async def test_a_key_is_stored_as_a_sha256_of_its_secret_never_in_clear() -> None:
    conn = FakeConnection()
    key = await create_key(conn, "desk", Role.WRITER)
    secret = key.removeprefix("fl_").partition("_")[2]  # the secret itself may hold "_"
    (stored,) = conn.written
    assert all(secret not in str(value) and key not in str(value) for value in stored)
    assert stored[3] == hashlib.sha256(secret.encode()).digest()


async def test_secrets_are_compared_with_hmac_compare_digest_even_for_unknown_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    conn = FakeConnection()
    key = await create_key(conn, "desk", Role.WRITER)

    assert (await authenticate(conn, key)) is not None
    assert (await authenticate(conn, key[:-1] + ("A" if key[-1] != "A" else "B"))) is None
    unknown = "fl_" + "0" * 32 + "_" + key.removeprefix("fl_").partition("_")[2]
    assert (await authenticate(conn, unknown)) is None
    # One constant-time comparison per attempt, a missing key included (so timing does not
    # tell which key ids exist).
    assert len(calls) == 3
    assert all(len(a) == len(b) == 32 for a, b in calls)
