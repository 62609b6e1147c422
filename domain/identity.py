"""Stable, human-readable identity.

Places and actors are named by slugs ("hama", "hts"); their aggregate ids are UUIDv5 of the
slug, so the same slug always means the same aggregate in every database (samples, imports,
tests). Incidents recorded with an idempotency key get a UUIDv5 of the key for the same reason:
a retry lands on the same aggregate instead of creating a second one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from uuid import UUID, uuid4, uuid5

from domain.errors import InvalidInput

NAMESPACE = UUID("6f0b1f3e-8a47-4f6c-9d2b-3c1e5a7d9b10")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 100
# Room for the API's scope prefix (api.graphql.mutation.scoped) before a client's 200.
KEY_MAX = 240


def check_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug) or len(slug) > SLUG_MAX:
        raise InvalidInput(
            f"slug {slug!r} must be lower-case letters, digits and single hyphens "
            f"(at most {SLUG_MAX} characters)",
            field="slug",
        )
    return slug


# Cached: an import names the same few thousand places and actors in every row (uuid5 and the
# slug check were 7% of an ACLED import, profile).
@lru_cache(maxsize=65_536)
def place_id(slug: str) -> UUID:
    return uuid5(NAMESPACE, f"place/{check_slug(slug)}")


@lru_cache(maxsize=65_536)
def actor_id(slug: str) -> UUID:
    return uuid5(NAMESPACE, f"actor/{check_slug(slug)}")


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_MAX:
        raise InvalidInput(
            f"idempotency key must be 1 to {KEY_MAX} characters", field="idempotencyKey"
        )
    return key


def incident_id(key: str | None) -> UUID:
    """A fresh id, or the one the idempotency key always maps to."""
    return uuid4() if key is None else uuid5(NAMESPACE, f"incident/{check_key(key)}")
