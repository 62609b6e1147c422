"""The controlled vocabulary of Frontline: kinds, roles and statuses.

Values are lower-case strings so they read well in JSON, GraphQL enums and SQL alike.
"""

from __future__ import annotations

from enum import StrEnum


class PlaceKind(StrEnum):
    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    NEIGHBOURHOOD = "neighbourhood"
    AIRBASE = "airbase"
    MILITARY_SITE = "military_site"
    HILL = "hill"
    CROSSING = "crossing"
    REGION = "region"
    OTHER = "other"


class ActorKind(StrEnum):
    STATE_FORCE = "state_force"
    ARMED_GROUP = "armed_group"
    COALITION = "coalition"
    FOREIGN_MILITARY = "foreign_military"
    OTHER = "other"


class SpeakerRole(StrEnum):
    """Who is speaking in a source: it decides how much weight a claim deserves."""

    PARTY = "party"  # a party to the conflict speaking for itself
    INDEPENDENT = "independent"  # an outlet or observer reporting what it saw or verified
    LOCAL_SOURCES = "local_sources"  # unnamed "local sources"
    UNKNOWN = "unknown"


class Channel(StrEnum):
    ARTICLE = "article"
    X = "x"
    TELEGRAM = "telegram"
    VIDEO = "video"
    WRITTEN_STATEMENT = "written_statement"
    OTHER = "other"


class TimePrecision(StrEnum):
    EXACT = "exact"  # to the minute or better
    DAY = "day"  # some time during that calendar day
    APPROXIMATE = "approximate"  # around that instant, give or take
    RANGE = "range"  # some time between start and end


class IncidentKind(StrEnum):
    CAPTURE = "capture"
    WITHDRAWAL = "withdrawal"
    AIRCRAFT_LOSS = "aircraft_loss"
    CLASH = "clash"
    ADVANCE = "advance"
    AIR_STRIKE = "air_strike"
    STRIKE = "strike"  # shelling, artillery, missiles, explosives: remote violence not from the air
    STATEMENT = "statement"
    ANTICIPATED_OPERATION = "anticipated_operation"
    # Not an event but an observation of a state ("as of T, P is held by A"): see
    # domain.details.Assessment and rule 8 of domain.control.
    ASSESSMENT = "assessment"
    OTHER = "other"  # an event no other kind fits (e.g. ACLED's protests, arrests, agreements)


class AircraftOutcome(StrEnum):
    DESTROYED = "destroyed"
    DAMAGED = "damaged"
    EMERGENCY_LANDING = "emergency_landing"


class ClaimStatus(StrEnum):
    """Where a claim stands after its corrections; see ``Incident.status``."""

    REPORTED = "reported"
    CORROBORATED = "corroborated"
    DISPUTED = "disputed"
    CONFIRMED = "confirmed"
    RETRACTED = "retracted"


class AssessedStatus(StrEnum):
    """What an assessment says of a place: held by its holders, contested between them, or
    that nobody can tell."""

    HELD = "held"
    CONTESTED = "contested"
    UNKNOWN = "unknown"


class AssessmentTier(StrEnum):
    """How much an assessment rests on: an analyst's or a mapper's judgement, a party's word,
    or verification on the ground."""

    ASSESSED = "assessed"
    CLAIMED = "claimed"
    CONFIRMED = "confirmed"
