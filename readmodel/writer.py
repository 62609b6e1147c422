"""Collects one batch's read-model changes and writes them with a few bulk statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg.types import Box, Point

from domain.control import Fact, Interval
from readmodel.constants import FAR_FUTURE, FAR_PAST, NEVER
from readmodel.control import span
from readmodel.jsonable import dumps
from readmodel.memory import IncidentEntry, Row

UPSERT_INCIDENT = """
INSERT INTO {s}.incidents AS i (id, kind, status, valid_from, valid_to, precision, place_ids,
    actor_ids, summary, details, sources, recorded_by, recorded_position, recorded_at,
    updated_position, version, fatalities, provenance)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14, $15, $16,
        $17, $18::jsonb)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind, status = excluded.status, valid_from = excluded.valid_from,
    valid_to = excluded.valid_to, precision = excluded.precision, place_ids = excluded.place_ids,
    actor_ids = excluded.actor_ids, summary = excluded.summary, details = excluded.details,
    sources = excluded.sources, updated_position = excluded.updated_position,
    version = excluded.version, fatalities = excluded.fatalities,
    provenance = excluded.provenance
"""
DELETE_FACTS = "DELETE FROM {s}.place_facts WHERE incident_id = ANY($1::uuid[])"
FACT_COLUMNS = (
    "place_id", "incident_id", "kind", "effective_at", "certain_from", "precision",
    "recorded_position", "controllers", "withdrawn", "previous", "disputed", "assessed",
    "confirmed",
)  # fmt: skip
CONTROL_COLUMNS = (
    "id", "place_id", "valid_from", "valid_to", "known_from", "known_to", "status",
    "controllers", "evidence", "disputed", "inferred", "precision", "certain_from", "span",
    "assessed",
)  # fmt: skip
# The columns of `incidents` and of `incident_versions` alike.
VERSION_COLUMNS = (
    "id", "kind", "status", "valid_from", "valid_to", "precision", "place_ids", "actor_ids",
    "summary", "details", "sources", "recorded_by", "recorded_position", "recorded_at",
    "updated_position", "version", "fatalities", "provenance",
)  # fmt: skip
ENTRY_COLUMNS = (
    "position", "recorded_at", "type", "aggregate_id", "aggregate_version", "recorded_by",
    "reason", "source", "disputed_by", "amended_from", "amended_to",
)  # fmt: skip
CHANGE_COLUMNS = (
    "position", "place_id", "since", "before_status", "before_controllers", "after_status",
    "after_controllers", "evidence",
)  # fmt: skip
RESERVE_IDS = (
    "SELECT nextval(pg_get_serial_sequence('{s}.control', 'id')) FROM generate_series(1, $1)"
)
CLOSE_ROWS = (
    "UPDATE {s}.control AS c SET known_to = v.known_to, "
    f"span = {span('c.valid_from', 'c.valid_to', 'c.known_from', 'v.known_to')} "
    "FROM unnest($1::bigint[], $2::bigint[]) AS v(id, known_to) WHERE c.id = v.id"
)


def _epoch(value: datetime | None, default: float) -> float:
    return default if value is None else value.timestamp()


def _box(row: Row) -> Box:
    i = row.interval
    return Box(
        Point(_epoch(i.valid_to, FAR_FUTURE), NEVER if row.known_to is None else row.known_to),
        Point(_epoch(i.valid_from, FAR_PAST), row.known_from),
    )


@dataclass
class BatchWriter:
    schema: str
    incidents: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)
    new_incidents: set[UUID] = field(default_factory=set)
    registrations: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    facts: dict[UUID, dict[UUID, Fact]] = field(default_factory=dict)
    inserts: list[tuple[UUID, Row]] = field(default_factory=list)
    closes: list[tuple[int, int]] = field(default_factory=list)
    changes: list[tuple[Any, ...]] = field(default_factory=list)
    versions: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)

    def incident(self, entry: IncidentEntry, position: int, *, new: bool = False) -> None:
        """Note an incident's state after the event at ``position``; ``new``: the event
        created it (its row cannot exist yet: each event is applied once)."""
        # Each version is kept: the incident as it stood at this position. The last one is
        # also the incident's row (an incident changes only by events, each noted here).
        args = _incident_args(entry, position)
        self.versions.append(args)
        self.incidents[entry.incident.id] = args  # the last state wins
        if new:
            self.new_incidents.add(entry.incident.id)

    def registry(self, sql: str, args: tuple[Any, ...]) -> None:
        """A place's or an actor's upsert, written (in order) before everything else."""
        self.registrations.setdefault(sql, []).append(args)

    def entry(self, record: tuple[Any, ...]) -> None:
        """One row of ``log_entries`` (ENTRY_COLUMNS), for every event of the batch."""
        self.entries.append(record)

    def incident_facts(self, incident_id: UUID, facts: dict[UUID, Fact]) -> None:
        self.facts[incident_id] = facts

    def insert(self, place_id: UUID, row: Row) -> None:
        self.inserts.append((place_id, row))

    def close(self, row: Row, position: int) -> None:
        row.known_to = position
        if row.id is not None:  # rows added by this batch are written already closed
            self.closes.append((row.id, position))

    def change(
        self, position: int, place_id: UUID, before: Interval | None, after: Interval | None
    ) -> None:
        self.changes.append(
            (
                position, place_id, after and after.valid_from,
                before and before.status.value, list(before.controllers if before else ()),
                after and after.status.value, list(after.controllers if after else ()),
                list(after.evidence if after else ()),
            )
        )  # fmt: skip

    async def flush(self, conn: Any) -> None:
        s = self.schema
        for sql, rows in self.registrations.items():
            await conn.executemany(sql.format(s=s), rows)
        if self.incidents:
            # New incidents by COPY, the others updated: an upsert per row was the costliest
            # statement of a rebuild.
            created = [a for i, a in self.incidents.items() if i in self.new_incidents]
            changed = [a for i, a in self.incidents.items() if i not in self.new_incidents]
            if created:
                await conn.copy_records_to_table(
                    "incidents", records=created, columns=VERSION_COLUMNS, schema_name=s
                )
            if changed:
                await conn.executemany(UPSERT_INCIDENT.format(s=s), changed)
        if self.facts:
            await conn.execute(DELETE_FACTS.format(s=s), list(self.facts))
            records = [
                _fact_record(place, f)
                for facts in self.facts.values()
                for place, f in facts.items()
            ]
            if records:
                await conn.copy_records_to_table(
                    "place_facts", records=records, columns=FACT_COLUMNS, schema_name=s
                )
        if self.closes:
            ids, known_to = zip(*self.closes, strict=True)
            await conn.execute(CLOSE_ROWS.format(s=s), list(ids), list(known_to))
        if self.inserts:
            reserved = await conn.fetch(RESERVE_IDS.format(s=s), len(self.inserts))
            for (_, row), record in zip(self.inserts, reserved, strict=True):
                row.id = record[0]
            await conn.copy_records_to_table(
                "control",
                records=[_control_record(place, row) for place, row in self.inserts],
                columns=CONTROL_COLUMNS,
                schema_name=s,
            )
        if self.changes:
            await conn.copy_records_to_table(
                "control_changes", records=self.changes, columns=CHANGE_COLUMNS, schema_name=s
            )
        if self.versions:
            await conn.copy_records_to_table(
                "incident_versions", records=self.versions, columns=VERSION_COLUMNS, schema_name=s
            )
        if self.entries:
            await conn.copy_records_to_table(
                "log_entries", records=self.entries, columns=ENTRY_COLUMNS, schema_name=s
            )


def _incident_args(entry: IncidentEntry, position: int) -> tuple[Any, ...]:
    incident, time = entry.incident, entry.incident.valid_time
    sources = (*incident.sources, *incident.corroborations, *incident.confirmations)
    return (
        incident.id, incident.kind.value, incident.status.value, time.earliest, time.latest,
        time.precision.value, list(incident.place_ids), list(incident.actor_ids),
        incident.summary, dumps(incident.details), dumps(sources), incident.meta.recorded_by,
        entry.recorded_position, entry.recorded_at, position, incident.version,
        incident.fatalities, None if incident.provenance is None else dumps(incident.provenance),
    )  # fmt: skip


def _fact_record(place_id: UUID, f: Fact) -> tuple[Any, ...]:
    return (
        place_id, f.incident_id, f.kind.value, f.effective_at, f.certain_from, f.precision.value,
        f.recorded_position, list(f.controllers), f.withdrawn, f.previous, f.disputed,
        None if f.assessed is None else f.assessed.value, f.confirmed,
    )  # fmt: skip


def _control_record(place_id: UUID, row: Row) -> tuple[Any, ...]:
    i = row.interval
    return (
        row.id, place_id, i.valid_from, i.valid_to, row.known_from, row.known_to,
        i.status.value, list(i.controllers), list(i.evidence), i.disputed, i.inferred,
        None if i.precision is None else i.precision.value, i.certain_from, _box(row),
        i.assessed,
    )  # fmt: skip
