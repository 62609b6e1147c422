"""The Actor aggregate: a force, group, coalition or foreign military."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.identity import actor_id
from domain.vocabulary import ActorKind


class Actor(Aggregate):
    # Its colour on maps ("#RRGGBB"), when someone gave it one; None: the API's default. A
    # class attribute, so actors registered before colours existed read as None.
    color: str | None = None

    @staticmethod
    def create_id(slug: str) -> UUID:
        return actor_id(slug)

    @event("Registered")
    def __init__(
        self,
        slug: str,
        name: str,
        kind: ActorKind,
        side: str | None,
        aliases: tuple[str, ...],
        coalition_ids: tuple[UUID, ...],
    ) -> None:
        self.slug = slug
        self.name = name
        self.kind = ActorKind(kind)
        self.side = side
        self.aliases = tuple(aliases)
        self.coalition_ids = tuple(coalition_ids)

    def join(self, coalition_id: UUID) -> None:
        if coalition_id not in self.coalition_ids:
            self._join(coalition_id=coalition_id)

    @event("JoinedCoalition")
    def _join(self, coalition_id: UUID) -> None:
        self.coalition_ids = (*self.coalition_ids, coalition_id)

    def recolor(self, color: str | None) -> None:
        if color != self.color:
            self._recolor(color=color)

    @event("Recolored")
    def _recolor(self, color: str | None) -> None:
        self.color = color

    def registration(self) -> dict[str, Any]:
        """The attributes a re-registration must match to count as the same request."""
        return {"slug": self.slug, "name": self.name, "kind": self.kind, "side": self.side}
