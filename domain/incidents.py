"""The Incident aggregate: one real-world event, as reported, and every correction to it.

Corrections are events of their own (``Corroborated``, ``Disputed``, ``Confirmed``,
``Amended``, ``Retracted``); nothing recorded is ever edited, so every earlier belief about
the incident can be rebuilt from its history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.details import Details
from domain.errors import IdempotencyKeyReused, InvalidCorrection
from domain.identity import incident_id
from domain.values import Provenance, RequestMeta, Source, ValidTime
from domain.vocabulary import ClaimStatus, IncidentKind

#: Events one incident may have (its recording and its corrections), and sources it may cite
#: (recorded, corroborating and confirming): each correction replays the incident, each
#: version of it is kept in the read models, and readers page through neither; beyond this
#: a report is a new incident.
MAX_INCIDENT_EVENTS = 101
MAX_INCIDENT_SOURCES = 50


@dataclass(frozen=True)
class Revision:
    """What an amendment changes beyond the time and the places (a dataset's revised row):
    each field given replaces the incident's; None leaves it as it is. ``changes`` keeps
    only what differs, so an amendment records what it changed and nothing else."""

    details: Details | None = None
    actor_ids: tuple[UUID, ...] | None = None
    sources: tuple[Source, ...] | None = None
    summary: str | None = None
    fatalities: int | None = None
    provenance: Provenance | None = None
    # Fields the revision empties (a dataset's row that no longer gives them): None above
    # cannot say so, it means "as it was".
    cleared: tuple[str, ...] = ()

    FIELDS: ClassVar = ("details", "actor_ids", "sources", "summary", "fatalities", "provenance")
    CLEARABLE: ClassVar = ("summary", "fatalities")

    def changes(self, incident: Incident) -> Revision | None:
        changed: dict[str, Any] = {
            name: getattr(self, name)
            for name in self.FIELDS
            if getattr(self, name) is not None and getattr(self, name) != getattr(incident, name)
        }
        cleared = tuple(n for n in self.cleared if getattr(incident, n) is not None)
        if cleared:
            changed["cleared"] = cleared
        return Revision(**changed) if changed else None

    def apply(self, incident: Incident) -> None:
        for name in self.FIELDS:
            value = getattr(self, name)
            if value is not None:
                setattr(incident, name, value)
        for name in self.cleared:
            setattr(incident, name, None)


@dataclass(frozen=True)
class Dispute:
    source: Source
    disputed_by: UUID | None
    reason: str | None


class Incident(Aggregate):
    @staticmethod
    def create_id(meta: RequestMeta) -> UUID:
        """Keyed recordings always land on the same id, so a retry cannot duplicate."""
        return incident_id(meta.key)

    @event("Recorded")
    def __init__(
        self,
        details: Details,
        valid_time: ValidTime,
        place_ids: tuple[UUID, ...],
        actor_ids: tuple[UUID, ...],
        sources: tuple[Source, ...],
        summary: str | None,
        meta: RequestMeta,
        fatalities: int | None = None,
        provenance: Provenance | None = None,
    ) -> None:
        self.fatalities = fatalities
        self.provenance = provenance
        self.details = details
        self.valid_time = valid_time
        self.place_ids = tuple(place_ids)
        self.actor_ids = tuple(actor_ids)
        self.sources = tuple(sources)
        self.summary = summary
        self.meta = meta
        self.corroborations: tuple[Source, ...] = ()
        self.disputes: tuple[Dispute, ...] = ()
        self.confirmations: tuple[Source, ...] = ()
        self.disputed = False
        self.confirmed = False
        self.retracted = False
        self.retraction_reason: str | None = None
        # idempotency key of each correction → (request fingerprint, version it produced)
        self.correction_keys: dict[str, tuple[str, int]] = {}

    @property
    def kind(self) -> IncidentKind:
        return self.details.kind

    @property
    def status(self) -> ClaimStatus:
        """Retracted beats everything; a dispute not yet answered by a confirmation beats
        confirmed; any further source makes a report corroborated (each source says who is
        speaking, so readers can judge how independent it is)."""
        if self.retracted:
            return ClaimStatus.RETRACTED
        if self.disputed:
            return ClaimStatus.DISPUTED
        if self.confirmed:
            return ClaimStatus.CONFIRMED
        if self.corroborations:
            return ClaimStatus.CORROBORATED
        return ClaimStatus.REPORTED

    # -- guards -------------------------------------------------------------------------

    def check_open(self) -> None:
        """A correction needs an incident still open, with room for one more event. Checked
        when a correction is asked for, never on replay."""
        if self.retracted:
            raise InvalidCorrection("the incident was retracted; record a new one instead")
        if self.version >= MAX_INCIDENT_EVENTS:
            raise InvalidCorrection(
                f"an incident takes at most {MAX_INCIDENT_EVENTS - 1} corrections; "
                "record a new incident instead"
            )

    def check_room_for_a_source(self) -> None:
        held = len(self.sources) + len(self.corroborations) + len(self.confirmations)
        if held >= MAX_INCIDENT_SOURCES:
            raise InvalidCorrection(
                f"an incident cites at most {MAX_INCIDENT_SOURCES} sources; it has enough"
            )

    def replayed_version(self, key: str | None, same: Callable[[str], bool]) -> int | None:
        """The version an earlier correction with this key produced, if it was the same
        request (``same``, given the fingerprint stored for it)."""
        if key is None or key not in self.correction_keys:
            return None
        seen, version = self.correction_keys[key]
        if not same(seen):
            raise IdempotencyKeyReused(f"idempotency key {key!r} was used for another request")
        return version

    # -- corrections (checked here, applied by the private @event methods) ---------------

    def corroborate(self, source: Source, meta: RequestMeta) -> None:
        self.check_open()
        self.check_room_for_a_source()
        self._corroborate(source=source, meta=meta)

    def dispute(
        self,
        source: Source,
        disputed_by: UUID | None,
        reason: str | None,
        meta: RequestMeta,
    ) -> None:
        self.check_open()
        self._dispute(source=source, disputed_by=disputed_by, reason=reason, meta=meta)

    def confirm(self, source: Source, meta: RequestMeta) -> None:
        self.check_open()
        self.check_room_for_a_source()
        self._confirm(source=source, meta=meta)

    def amend(
        self,
        valid_time: ValidTime | None,
        place_ids: tuple[UUID, ...] | None,
        reason: str,
        source: Source | None,
        meta: RequestMeta,
        revision: Revision | None = None,
    ) -> None:
        self.check_open()
        new_time = valid_time is not None and valid_time != self.valid_time
        new_places = place_ids is not None and tuple(place_ids) != self.place_ids
        changed = None if revision is None else revision.changes(self)
        if not (new_time or new_places or changed):
            raise InvalidCorrection("an amendment must change something")
        self._amend(
            valid_time=valid_time,
            place_ids=place_ids,
            reason=reason,
            source=source,
            meta=meta,
            **({} if changed is None else {"revision": changed}),
        )

    def retract(self, reason: str, source: Source | None, meta: RequestMeta) -> None:
        self.check_open()
        self._retract(reason=reason, source=source, meta=meta)

    def _remember(self, meta: RequestMeta) -> None:
        # Runs inside each correction's apply, before the library bumps self.version.
        if meta.key is not None:
            self.correction_keys[meta.key] = (meta.fingerprint or "", self.version + 1)

    @event("Corroborated")
    def _corroborate(self, source: Source, meta: RequestMeta) -> None:
        self.corroborations = (*self.corroborations, source)
        self._remember(meta)

    @event("Disputed")
    def _dispute(
        self,
        source: Source,
        disputed_by: UUID | None,
        reason: str | None,
        meta: RequestMeta,
    ) -> None:
        self.disputes = (*self.disputes, Dispute(source, disputed_by, reason))
        self.disputed = True
        self._remember(meta)

    @event("Confirmed")
    def _confirm(self, source: Source, meta: RequestMeta) -> None:
        self.confirmations = (*self.confirmations, source)
        self.confirmed = True
        self.disputed = False
        self._remember(meta)

    @event("Amended")
    def _amend(
        self,
        valid_time: ValidTime | None,
        place_ids: tuple[UUID, ...] | None,
        reason: str,
        source: Source | None,
        meta: RequestMeta,
        revision: Revision | None = None,
    ) -> None:
        if valid_time is not None:
            self.valid_time = valid_time
        if place_ids is not None:
            self.place_ids = tuple(place_ids)
        if revision is not None:
            revision.apply(self)
        self._remember(meta)

    @event("Retracted")
    def _retract(self, reason: str, source: Source | None, meta: RequestMeta) -> None:
        self.retracted = True
        self.retraction_reason = reason
        self._remember(meta)
