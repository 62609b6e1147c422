"""API keys with roles: created by `frontline keys create`, stored hashed, checked per request.

A key reads ``fl_<key id hex>_<secret>``. The id finds the row; the secret is compared with
its stored SHA-256 in constant time. Roles are ordered: reader < writer < admin.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any
from uuid import UUID, uuid4

from domain.errors import InvalidInput
from domain.values import check_label

PREFIX = "fl_"
#: A key's name, which every write of it records (as "<name> (key 1a2b3c4d)").
KEY_NAME_MAX = 100


class Role(IntEnum):
    READER = 1
    WRITER = 2
    ADMIN = 3

    @classmethod
    def named(cls, name: str) -> Role:
        return cls[name.upper()]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and name (recorded as ``recordedBy``) and its role."""

    key_id: UUID
    name: str
    role: Role

    @property
    def label(self) -> str:
        """``recordedBy`` of what this key writes. The name is cut to fit a recorded name
        (keys made before names were bounded could be longer)."""
        name = self.name if len(self.name) <= KEY_NAME_MAX else self.name[: KEY_NAME_MAX - 1] + "…"
        return f"{name} (key {self.key_id.hex[:8]})"

    @property
    def key_scope(self) -> str:
        """The prefix of every idempotency key recorded with this API key (see
        api.graphql.mutation.scoped)."""
        return f"key/{self.key_id.hex}/"


@dataclass(frozen=True)
class KeyInfo:
    id: UUID
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


INSERT_KEY = "INSERT INTO public.api_keys (id, name, role, secret_sha256) VALUES ($1, $2, $3, $4)"
SELECT_KEY = (
    "SELECT name, role, secret_sha256 FROM public.api_keys WHERE id = $1 AND revoked_at IS NULL"
)
REVOKE_KEY = "UPDATE public.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL"
KEY_IS_LIVE = "SELECT EXISTS (SELECT FROM public.api_keys WHERE id = $1 AND revoked_at IS NULL)"
LIST_KEYS = "SELECT id, name, role, created_at, revoked_at FROM public.api_keys ORDER BY created_at"


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class KeyNameError(ValueError):
    """A key's name that would not make a readable ``recordedBy``."""


def check_key_name(name: str) -> str:
    """A key's name is shown as the ``recordedBy`` of all it writes: 1 to KEY_NAME_MAX
    characters, something visible, no bidi controls."""
    name = name.strip()
    if not 1 <= len(name) <= KEY_NAME_MAX:
        raise KeyNameError(f"a key's name is 1 to {KEY_NAME_MAX} characters")
    try:
        check_label(name, "name")
    except InvalidInput as error:
        raise KeyNameError(error.message) from None
    return name


async def create_key(conn: Any, name: str, role: Role) -> str:
    """Store a new key and return it; this is the only time the secret is ever shown."""
    name = check_key_name(name)
    key_id, secret = uuid4(), secrets.token_urlsafe(32)
    await conn.execute(INSERT_KEY, key_id, name, role.name.lower(), _digest(secret))
    return f"{PREFIX}{key_id.hex}_{secret}"


async def revoke_key(conn: Any, key_id: UUID) -> bool:
    return str(await conn.execute(REVOKE_KEY, key_id)).endswith(" 1")


async def list_keys(conn: Any) -> list[KeyInfo]:
    return [
        KeyInfo(r["id"], r["name"], Role.named(r["role"]), r["created_at"], r["revoked_at"])
        for r in await conn.fetch(LIST_KEYS)
    ]


async def authenticate(conn: Any, key: str | None) -> Principal | None:
    """The principal a presented key stands for, or None if it is absent, unknown, revoked
    or wrong. Callers treat None as "anonymous"."""
    if not key or not key.startswith(PREFIX):
        return None
    key_hex, _, secret = key[len(PREFIX) :].partition("_")
    try:
        key_id = UUID(hex=key_hex)
    except ValueError:
        return None
    row = await conn.fetchrow(SELECT_KEY, key_id)
    # Compare even when the row is missing, so timing says nothing about which keys exist.
    expected = bytes(row["secret_sha256"]) if row else b"\0" * 32
    if not hmac.compare_digest(expected, _digest(secret)) or row is None:
        return None
    return Principal(key_id, row["name"], Role.named(row["role"]))


async def still_valid(conn: Any, principal: Principal) -> bool:
    """Whether the key a long-lived connection authenticated with is still unrevoked."""
    return bool(await conn.fetchval(KEY_IS_LIVE, principal.key_id))


def bearer(authorization: str | None) -> str | None:
    """The key from an ``Authorization: Bearer <key>`` header value."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None
