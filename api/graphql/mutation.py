"""The write API. Every mutation needs a writer key, returns the log position it produced,
and is idempotent when given an ``idempotencyKey``. Nothing is written on any error."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, cast
from uuid import UUID

import strawberry
from strawberry.permission import BasePermission

from api.auth import Principal, Role
from api.graphql import ids
from api.graphql.context import Info
from api.graphql.errors import ApiError
from api.graphql.imports import ImportSummary, import_dataset
from api.graphql.query import Query
from api.graphql.types.actor import Actor
from api.graphql.types.incident import Incident
from api.graphql.types.place import Place
from api.graphql.write_inputs import (
    CLIENT_KEY_MAX,
    AdvanceInput,
    AircraftLossInput,
    AirStrikeInput,
    AmendInput,
    AnticipatedOperationInput,
    AssessmentInput,
    CaptureInput,
    ClashInput,
    CorrectionInput,
    IncidentInput,
    OtherEventInput,
    RegisterActorInput,
    RegisterPlaceInput,
    SourceInput,
    StatementInput,
    StrikeInput,
    WithdrawalInput,
)
from domain import commands as c
from domain.application import Receipt

MAX_BATCH = 1000
POSITION_OF = (
    "SELECT notification_id FROM public.frontline_events "
    "WHERE originator_id = $1 AND originator_version = $2"
)


@strawberry.type(description="What a mutation did, and where in the log.")
class Payload:
    id: strawberry.ID
    position: int = strawberry.field(
        description="Log position of the change; pass it to Query.fresh to read your write."
    )
    version: int
    replayed: bool = strawberry.field(
        description="True when an idempotent retry recorded nothing new."
    )
    type_name: strawberry.Private[str]

    @strawberry.field(
        description="When the log recorded it (record time): with `position`, what "
        "knownAt / knownAtPosition take to ask what was known right after this write."
    )
    async def recorded_at(self, info: Info) -> datetime:
        found: datetime = await info.context.recorded_at_loader.load(self.position)
        return found

    @strawberry.field(description="The incident as projected (waits for the projection).")
    async def incident(self, info: Info) -> Incident | None:
        row = await _projected(info, self, info.context.incident_loader)
        return None if row is None else Incident.from_row(row)

    @strawberry.field(description="The place as projected (waits for the projection).")
    async def place(self, info: Info) -> Place | None:
        row = await _projected(info, self, info.context.place_loader)
        return None if row is None else Place.from_row(row)

    @strawberry.field(description="The actor as projected (waits for the projection).")
    async def actor(self, info: Info) -> Actor | None:
        row = await _projected(info, self, info.context.actor_loader)
        return None if row is None else Actor.from_row(row)


async def _projected(info: Info, payload: Payload, loader: Any) -> Any:
    _, uuid = ids.decode(payload.id)
    await Query().fresh(info, payload.position)
    return await loader.load(uuid)


async def _execute(info: Info, commands: list[c.Command]) -> list[Payload]:
    if not 1 <= len(commands) <= MAX_BATCH:
        raise ApiError("INVALID_INPUT", f"a batch holds 1 to {MAX_BATCH} commands")
    principal = info.context.require(Role.WRITER)
    commands = [scoped(command, principal) for command in commands]
    receipts = await info.context.write(info.context.application.execute_batch, commands)
    if info.context.metrics is not None:
        info.context.metrics.appended.inc(sum(not r.replayed for r in receipts))
    return [await _payload(info, command, r) for command, r in zip(commands, receipts, strict=True)]


async def _payload(info: Info, command: c.Command, receipt: Receipt) -> Payload:
    position = receipt.position
    if position is None:  # an idempotent retry: report where the original landed
        position = await info.context.pool.fetchval(POSITION_OF, receipt.id, receipt.version)
    type_name = {c.RegisterPlace: "Place", c.RegisterActor: "Actor"}.get(type(command), "Incident")
    return Payload(
        id=ids.encode(type_name, receipt.id),
        position=int(position),
        version=receipt.version,
        replayed=receipt.replayed,
        type_name=type_name,
    )


def scoped(command: c.Command, principal: Principal) -> c.Command:
    """The command with its idempotency key in its caller's scope (``key/<key id>/<key>``).

    A retry is the same client retrying: under a key of its own, writer B sending writer A's
    idempotency key records a new incident instead of getting A's back, and nobody can squat
    a predictable key (the README's) for everyone else. The sample and the CLI's imports use
    prefixes of their own (``sample/…``), which no API caller can reach."""
    key = getattr(command, "key", None)
    if key is None:
        return command
    if not isinstance(key, str) or not key.strip() or len(key) > CLIENT_KEY_MAX:
        raise ApiError(
            "INVALID_INPUT",
            f"idempotency key must be 1 to {CLIENT_KEY_MAX} characters",
            field="idempotencyKey",
        )
    scoped_command: c.Command = replace(cast("Any", command), key=principal.key_scope + key)
    return scoped_command


class CanWrite(BasePermission):
    """Every mutation needs a writer key. Checked before the resolver runs, so a caller
    without one learns nothing about its input (no INVALID_ID before UNAUTHENTICATED)."""

    message = "a writer key is required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require(Role.WRITER)  # raises the typed UNAUTHENTICATED / FORBIDDEN
        info.context.use_primary()  # what it answers must include its write
        return True


# Strawberry's permission extension takes the parent object as `source`, so an argument of
# that name is spelled `source_` in Python (clients still write `source:`).
SourceArg = Annotated[SourceInput, strawberry.argument(name="source")]
OptionalSourceArg = Annotated[SourceInput | None, strawberry.argument(name="source")]


def _by(info: Info) -> str:
    return info.context.require(Role.WRITER).label


@strawberry.input(one_of=True, description="One command of an atomic batch (set one field).")
class BatchCommand:
    register_place: RegisterPlaceInput | None = strawberry.UNSET
    register_actor: RegisterActorInput | None = strawberry.UNSET
    capture: CaptureItem | None = strawberry.UNSET
    withdrawal: WithdrawalItem | None = strawberry.UNSET
    aircraft_loss: AircraftLossItem | None = strawberry.UNSET
    clash: ClashItem | None = strawberry.UNSET
    advance: AdvanceItem | None = strawberry.UNSET
    air_strike: AirStrikeItem | None = strawberry.UNSET
    statement: StatementItem | None = strawberry.UNSET
    anticipated_operation: AnticipatedOperationItem | None = strawberry.UNSET
    assessment: AssessmentItem | None = strawberry.UNSET
    strike: StrikeItem | None = strawberry.UNSET
    other_event: OtherEventItem | None = strawberry.UNSET

    def command(self, recorded_by: str) -> c.Command:
        for name in ("register_place", "register_actor"):
            value = getattr(self, name)
            if value:
                return value.command()  # type: ignore[no-any-return]
        for name in (
            "capture", "withdrawal", "aircraft_loss", "clash", "advance", "air_strike",
            "statement", "anticipated_operation", "assessment", "strike", "other_event",
        ):  # fmt: skip
            item = getattr(self, name)
            if item:
                return item.incident.command(item.details.details(), recorded_by)  # type: ignore[no-any-return]
        raise ApiError("INVALID_INPUT", "set exactly one field of a batch command")


@strawberry.input
class CaptureItem:
    incident: IncidentInput
    details: CaptureInput


@strawberry.input
class WithdrawalItem:
    incident: IncidentInput
    details: WithdrawalInput


@strawberry.input
class AircraftLossItem:
    incident: IncidentInput
    details: AircraftLossInput


@strawberry.input
class ClashItem:
    incident: IncidentInput
    details: ClashInput


@strawberry.input
class AdvanceItem:
    incident: IncidentInput
    details: AdvanceInput


@strawberry.input
class AirStrikeItem:
    incident: IncidentInput
    details: AirStrikeInput


@strawberry.input
class StatementItem:
    incident: IncidentInput
    details: StatementInput


@strawberry.input
class AnticipatedOperationItem:
    incident: IncidentInput
    details: AnticipatedOperationInput


@strawberry.input
class AssessmentItem:
    incident: IncidentInput
    details: AssessmentInput


@strawberry.input
class StrikeItem:
    incident: IncidentInput
    details: StrikeInput


@strawberry.input
class OtherEventItem:
    incident: IncidentInput
    details: OtherEventInput


def _incident_id(info: Info, base: CorrectionInput) -> UUID:
    return base.incident_id(info.context.require(Role.WRITER).key_scope)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Import an ACLED export (admin key): the CSV's text, ACLED's columns in "
        "any order, at most the request body limit (1 MiB by default); `deletions`: ACLED's "
        "list of deleted events. As `frontline import-acled`: idempotent by event_id_cnty, "
        "newer timestamps amend, deletions retract; bad rows are reported and the good ones "
        "land, unless `strict`, which records nothing if any row is bad."
    )
    async def import_acled(
        self,
        info: Info,
        csv: str,
        deletions: str | None = None,
        strict: bool = False,
        dry_run: bool = False,
    ) -> ImportSummary:
        return await import_dataset(info, "acled", csv, deletions, strict=strict, dry_run=dry_run)

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Register a place (idempotent by slug)."
    )
    async def register_place(self, info: Info, input: RegisterPlaceInput) -> Payload:
        return (await _execute(info, [input.command()]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Register an actor (idempotent by slug)."
    )
    async def register_actor(self, info: Info, input: RegisterActorInput) -> Payload:
        return (await _execute(info, [input.command()]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite], description="A place (or several) captured."
    )
    async def record_capture(
        self, info: Info, incident: IncidentInput, details: CaptureInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(permission_classes=[CanWrite], description="A withdrawal or redeployment.")
    async def record_withdrawal(
        self, info: Info, incident: IncidentInput, details: WithdrawalInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Aircraft shot down, damaged or forced to land."
    )
    async def record_aircraft_loss(
        self, info: Info, incident: IncidentInput, details: AircraftLossInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(permission_classes=[CanWrite], description="Fighting between parties.")
    async def record_clash(
        self, info: Info, incident: IncidentInput, details: ClashInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite], description="An advance toward an objective."
    )
    async def record_advance(
        self, info: Info, incident: IncidentInput, details: AdvanceInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Air strikes, possibly in support of another actor.",
    )
    async def record_air_strike(
        self, info: Info, incident: IncidentInput, details: AirStrikeInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Shelling, artillery, missiles or explosives: remote violence, not from the "
        "air.",
    )
    async def record_strike(
        self, info: Info, incident: IncidentInput, details: StrikeInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="An event no other kind fits (a protest, an arrest, an agreement…).",
    )
    async def record_other_event(
        self, info: Info, incident: IncidentInput, details: OtherEventInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="A statement on the record (kept as what was said).",
    )
    async def record_statement(
        self, info: Info, incident: IncidentInput, details: StatementInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite], description="An expected operation: a claim, never a fact."
    )
    async def record_anticipated_operation(
        self, info: Info, incident: IncidentInput, details: AnticipatedOperationInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="A control assessment: as of the record's time, per its sources, who "
        "holds the places (or that they are contested, or unknown). A state, not an event: "
        "it sets their control from its time on and is corrected like any incident.",
    )
    async def record_assessment(
        self, info: Info, incident: IncidentInput, details: AssessmentInput
    ) -> Payload:
        return (await _execute(info, [incident.command(details.details(), _by(info))]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Record commands atomically: all of them, or none.",
    )
    async def record_batch(self, info: Info, commands: list[BatchCommand]) -> list[Payload]:
        by = _by(info)
        return await _execute(info, [command.command(by) for command in commands])

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Another source backs the incident."
    )
    async def corroborate(
        self, info: Info, correction: CorrectionInput, source_: SourceArg
    ) -> Payload:
        command = c.Corroborate(
            _incident_id(info, correction), source_.to_domain(), correction.idempotency_key,
            correction.expected_version, _by(info),
        )  # fmt: skip
        return (await _execute(info, [command]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Someone denies the incident (it still counts, flagged).",
    )
    async def dispute(
        self,
        info: Info,
        correction: CorrectionInput,
        source_: SourceArg,
        disputed_by: str | None = None,
        reason: str | None = None,
    ) -> Payload:
        command = c.Dispute(
            _incident_id(info, correction), source_.to_domain(),
            None if disputed_by is None else ids.actor_ref(disputed_by), reason,
            correction.idempotency_key, correction.expected_version, _by(info),
        )  # fmt: skip
        return (await _execute(info, [command]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite], description="The incident is confirmed (clears a dispute)."
    )
    async def confirm(self, info: Info, correction: CorrectionInput, source_: SourceArg) -> Payload:
        command = c.Confirm(
            _incident_id(info, correction), source_.to_domain(), correction.idempotency_key,
            correction.expected_version, _by(info),
        )  # fmt: skip
        return (await _execute(info, [command]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Correct the incident's time or places, saying why.",
    )
    async def amend(
        self, info: Info, correction: CorrectionInput, amendment: AmendInput
    ) -> Payload:
        scope = info.context.require(Role.WRITER).key_scope
        return (await _execute(info, [amendment.command(correction, _by(info), scope)]))[0]

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Withdraw the incident: it stops counting from now on.",
    )
    async def retract(
        self,
        info: Info,
        correction: CorrectionInput,
        reason: str,
        source_: OptionalSourceArg = None,
    ) -> Payload:
        source = None if source_ is None else source_.to_domain()
        command = c.Retract(
            _incident_id(info, correction), reason, source,
            correction.idempotency_key, correction.expected_version, _by(info),
        )  # fmt: skip
        return (await _execute(info, [command]))[0]
