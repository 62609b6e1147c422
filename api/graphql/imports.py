"""`importAcled`: a dataset's file, posted as text by an admin, through the importer the
running system provides (``Context.importers``; the API layer does not know ACLED's layout).

Bounded like every request: the text is at most the body limit (FRONTLINE_MAX_BODY_BYTES,
1 MiB by default: about 2,000 ACLED rows), one import runs at a time per process, and the
request deadline applies. An import cut short by the deadline keeps the chunks it finished
(each atomic), and sending the file again records only the rest: rows are keyed by the
dataset's own ids. Larger files go through `frontline import-acled`.
"""

from __future__ import annotations

from typing import Protocol

import strawberry

from api.auth import Role
from api.graphql.context import Info
from api.graphql.errors import ApiError


class ImportCounts(Protocol):
    """What an importer reports (frontline.acled_plan.Summary)."""

    read: int
    recorded: int
    revised: int
    retracted: int
    unchanged: int
    rejected: int
    places_created: int
    actors_created: int
    deletions_not_held: int
    problems: list[str]
    dry_run: bool
    position: int


class DatasetImporter(Protocol):
    """Imports a file's text; runs one import at a time, and raises typed errors
    (``DomainError``) for a file it cannot read or, with ``strict``, for any bad row."""

    async def __call__(
        self, text: str, deletions: str | None, *, strict: bool, dry_run: bool
    ) -> ImportCounts: ...


@strawberry.type(description="What an import recorded (with dryRun: would record).")
class ImportSummary:
    rows_read: int
    incidents_recorded: int
    revised: int = strawberry.field(description="Rows newer than the revision recorded: amended.")
    retracted: int = strawberry.field(description="Deleted by the dataset: retracted.")
    unchanged: int = strawberry.field(description="Already recorded at this revision or later.")
    rejected: int
    places_created: int
    actors_created: int
    deletions_not_held: int = strawberry.field(description="Deletions of events never imported.")
    problems: list[str] = strawberry.field(
        description='The rejected rows (the first 100), as "file:line: column: reason".'
    )
    dry_run: bool
    position: int = strawberry.field(
        description="The log's head after the import: pass it to Query.fresh to read it."
    )

    @classmethod
    def of(cls, counts: ImportCounts) -> ImportSummary:
        return cls(
            rows_read=counts.read, incidents_recorded=counts.recorded, revised=counts.revised,
            retracted=counts.retracted, unchanged=counts.unchanged, rejected=counts.rejected,
            places_created=counts.places_created, actors_created=counts.actors_created,
            deletions_not_held=counts.deletions_not_held, problems=counts.problems,
            dry_run=counts.dry_run, position=counts.position,
        )  # fmt: skip


async def import_dataset(
    info: Info, dataset: str, text: str, deletions: str | None, *, strict: bool, dry_run: bool
) -> ImportSummary:
    info.context.require(Role.ADMIN)
    importer = info.context.importers.get(dataset)
    if importer is None:
        raise ApiError("UNAVAILABLE", f"this server does not import {dataset} files")
    return ImportSummary.of(await importer(text, deletions, strict=strict, dry_run=dry_run))
