"""Value objects: immutable, validated on construction, stored inside events.

They coerce plain values (``"day"`` → ``TimePrecision.DAY``, lists → tuples) because they are
rebuilt from JSON when events are read back, and built from GraphQL input on the way in.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from domain.errors import InvalidCoordinates, InvalidInput, InvalidTime
from domain.vocabulary import Channel, SpeakerRole, TimePrecision

NAME_MAX = 200
TEXT_MAX = 5_000
URL_MAX = 2_048
LIST_MAX = 50
EARLIEST_YEAR = 1900


def clean_name(value: str, field: str) -> str:
    """A required short label: stripped, non-empty, at most ``NAME_MAX`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(value) > NAME_MAX:
        raise InvalidInput(f"{field} is longer than {NAME_MAX} characters", field=field)
    return value.strip()


def clean_text(value: str | None, field: str) -> str | None:
    """Optional free text, at most ``TEXT_MAX`` characters; blank becomes ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    if len(value) > TEXT_MAX:
        raise InvalidInput(f"{field} is longer than {TEXT_MAX} characters", field=field)
    return value.strip() or None


#: Bidi embedding, override and isolate controls: they reorder the text after them, so a name
#: holding one can display as something else (CVE-2021-42574, "Trojan Source"). The marks
#: LRM, RLM and ALM, which right-to-left names legitimately carry, are allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_label(value: str | None, field: str) -> None:
    """A name (of a place, an actor, an outlet, a key) must show something and say it in
    order: at least one letter, digit, punctuation mark or symbol (not only spaces, controls,
    zero-width or combining characters), and no bidi controls.

    A boundary check, for commands only: stored events are never held to it on replay."""
    if value is None:
        return
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in value):
        raise InvalidInput(f"{field} has no visible character", field=field)
    if not BIDI_CONTROLS.isdisjoint(value):
        raise InvalidInput(f"{field} may not contain bidi control characters", field=field)


_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


def clean_color(value: str, field: str) -> str:
    """A colour as maps and pictures take it: "#RRGGBB" (upper-cased). Nothing else, so a
    colour can go into a page's style or an SVG attribute as it is."""
    if not isinstance(value, str) or not _COLOR.fullmatch(value.strip()):
        msg = f'{field} must be a colour written "#RRGGBB", e.g. "#CC6677"'
        raise InvalidInput(msg, field=field)
    return value.strip().upper()


#: Characters RFC 3986 never allows unescaped in a URL (besides spaces and controls).
_NOT_IN_URLS = frozenset('<>"{}|\\^`')


def check_url(value: str | None, field: str) -> None:
    """A source URL a reader can follow safely: http(s), with no credentials in it, and no
    whitespace, control or markup characters (percent-encode them). A boundary check."""
    if value is None:
        return
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"{field} may not carry a user name or password", field=field)
    if any(
        ch.isspace() or ch in _NOT_IN_URLS or unicodedata.category(ch)[0] == "C" for ch in value
    ):
        raise InvalidInput(
            f"{field} has a space, a control or a character URLs must escape", field=field
        )


def clean_names(values: Any, field: str) -> tuple[str, ...]:
    """A short list of distinct labels (aliases, transliterations), order kept."""
    items = tuple(values or ())
    if len(items) > LIST_MAX:
        raise InvalidInput(f"{field} has more than {LIST_MAX} entries", field=field)
    cleaned = [clean_name(item, field) for item in items]
    return tuple(dict.fromkeys(cleaned))


def require_aware(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidTime(f"{field} must be a datetime with a UTC offset", field=field)
    if value.year < EARLIEST_YEAR:
        raise InvalidTime(f"{field} is before {EARLIEST_YEAR}", field=field)
    return value


def not_after(value: datetime, now: datetime, field: str) -> None:
    if value > now:
        raise InvalidTime(f"{field} is in the future ({value.isoformat()})", field=field)


@dataclass(frozen=True)
class Coordinates:
    """WGS84 latitude/longitude in decimal degrees."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        for name, value, bound in (
            ("latitude", self.latitude, 90),
            ("longitude", self.longitude, 180),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidCoordinates(f"{name} must be a number", field=name)
            # Bounds first: math.isfinite overflows on integers too large for a float.
            if not -bound <= value <= bound or not math.isfinite(value):
                raise InvalidCoordinates(f"{name} {value} is outside ±{bound}", field=name)
            object.__setattr__(self, name, float(value))


@dataclass(frozen=True)
class ValidTime:
    """When something happened in the world, no more precisely than we know it.

    - ``exact``: at ``start``.
    - ``day``: some time on ``start``'s calendar day (in ``start``'s own UTC offset);
      ``start`` is normalised to that day's midnight.
    - ``approximate``: around ``start``.
    - ``range``: some time in ``[start, end)``; ``end`` is required and after ``start``.
    """

    start: datetime
    precision: TimePrecision = TimePrecision.EXACT
    end: datetime | None = None

    def __post_init__(self) -> None:
        try:
            precision = TimePrecision(self.precision)
        except ValueError:
            raise InvalidTime(f"unknown precision {self.precision!r}", field="precision") from None
        object.__setattr__(self, "precision", precision)
        start = require_aware(self.start, "occurredAt")
        if precision is TimePrecision.DAY:
            start = start.replace(hour=0, minute=0, second=0, microsecond=0)
            object.__setattr__(self, "start", start)
        if precision is TimePrecision.RANGE:
            if self.end is None:
                raise InvalidTime("a range needs an end", field="occurredUntil")
            if require_aware(self.end, "occurredUntil") <= start:
                raise InvalidTime("a range must end after it starts", field="occurredUntil")
        elif self.end is not None:
            raise InvalidTime("only a range has an end", field="occurredUntil")

    @property
    def earliest(self) -> datetime:
        return self.start

    @property
    def latest(self) -> datetime:
        """The last instant the event may have happened (exclusive for day and range)."""
        if self.precision is TimePrecision.DAY:
            return self.start + timedelta(days=1)
        if self.end is not None:
            return self.end
        return self.start

    def check_not_future(self, now: datetime) -> None:
        not_after(self.start, now, "occurredAt")
        if self.end is not None:
            not_after(self.end, now, "occurredUntil")


@dataclass(frozen=True)
class Source:
    """One report that a fact rests on, and who is speaking in it."""

    outlet: str
    channel: Channel = Channel.ARTICLE
    role: SpeakerRole = SpeakerRole.INDEPENDENT
    url: str | None = None
    published_at: datetime | None = None
    quote: str | None = None
    speaker: str | None = None
    speaker_actor_id: UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "outlet", clean_name(self.outlet, "source.outlet"))
        try:
            object.__setattr__(self, "channel", Channel(self.channel))
            object.__setattr__(self, "role", SpeakerRole(self.role))
        except ValueError as error:
            raise InvalidInput(f"source: {error}", field="source") from None
        if self.url is not None:
            parts = urlsplit(self.url)
            if len(self.url) > URL_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidInput("source.url must be an http(s) URL", field="source.url")
        if self.published_at is not None:
            require_aware(self.published_at, "source.publishedAt")
        object.__setattr__(self, "quote", clean_text(self.quote, "source.quote"))
        if self.speaker is not None:
            object.__setattr__(self, "speaker", clean_name(self.speaker, "source.speaker"))
        if self.speaker_actor_id is not None and not isinstance(self.speaker_actor_id, UUID):
            try:
                object.__setattr__(self, "speaker_actor_id", UUID(str(self.speaker_actor_id)))
            except ValueError:
                raise InvalidInput(
                    "source.speakerActor is not an id", field="source.speakerActor"
                ) from None

    def check_not_future(self, now: datetime) -> None:
        if self.published_at is not None:
            not_after(self.published_at, now, "source.publishedAt")


@dataclass(frozen=True)
class RequestMeta:
    """Who asked for a change, and the idempotency key and fingerprint of the request."""

    recorded_by: str | None = None
    key: str | None = None
    fingerprint: str | None = None


PROVENANCE_ATTRIBUTES_MAX = 60


@dataclass(frozen=True)
class Provenance:
    """Where a record came from when it came from another dataset: the dataset, the record's
    id and revision there (ACLED's ``event_id_cnty`` and ``timestamp``), and the dataset's
    own columns that Frontline has no field for, as given (name, value), so an export can
    give them back."""

    dataset: str
    record_id: str
    revision: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", clean_name(self.dataset, "provenance.dataset"))
        object.__setattr__(self, "record_id", clean_name(self.record_id, "provenance.recordId"))
        if self.revision is not None:
            object.__setattr__(self, "revision", clean_name(self.revision, "provenance.revision"))
        pairs = self.attributes
        if len(pairs) > PROVENANCE_ATTRIBUTES_MAX:
            raise InvalidInput(
                f"provenance holds at most {PROVENANCE_ATTRIBUTES_MAX} attributes",
                field="provenance.attributes",
            )
        # Pairs of text, as an importer builds them, are kept as they are; anything else is
        # turned into them. (An ACLED row holds 28: this ran for every one of them.)
        if type(pairs) is not tuple or not all(type(p) is tuple and len(p) == 2 and
                                               type(p[0]) is str and type(p[1]) is str
                                               for p in pairs):  # fmt: skip
            pairs = tuple((str(k), "" if v is None else str(v)) for k, v in pairs)
        for name, value in pairs:
            if not name.strip() or len(name) > NAME_MAX:
                clean_name(name, "provenance.attributes")  # raises, saying why
            if len(value) > TEXT_MAX:
                clean_text(value, "provenance.attributes")  # raises, saying why
        object.__setattr__(self, "attributes", pairs)

    def attribute(self, name: str) -> str | None:
        return next((v for k, v in self.attributes if k == name), None)
