"""The ACLED mapping (frontline/acled.py), rule by rule, on single rows: no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.details import AirStrike, Assessment, Capture, Clash, OtherEvent, Strike
from domain.identity import actor_id
from domain.vocabulary import ActorKind, AssessedStatus, PlaceKind, TimePrecision
from frontline.acled import (
    AcledError,
    AcledRow,
    Mapped,
    RowError,
    actor_kind,
    map_row,
    parse_date,
    place_kind,
    read_acled,
    slugify,
)

SAA = "Military Forces of Syria (2000-2024)"
HTS = "HTS: Hayat Tahrir al Sham"


def row(**overrides: str) -> AcledRow:
    fields = {
        "event_id_cnty": "SYR1", "event_date": "2024-12-05", "time_precision": "1",
        "event_type": "Battles", "sub_event_type": "Non-state actor overtakes territory",
        "actor1": HTS, "assoc_actor_1": "", "inter1": "2", "actor2": SAA,
        "assoc_actor_2": "", "inter2": "1", "country": "Syria", "admin1": "Hama",
        "admin2": "Hama", "location": "Hama", "latitude": "35.1318", "longitude": "36.7578",
        "geo_precision": "1", "source": "SOHR; Reuters", "notes": "HTS took Hama.",
        "fatalities": "12", "timestamp": "1733400000",
    }  # fmt: skip
    return AcledRow(7, fields | overrides)


def mapped(**overrides: str) -> Mapped:
    result = map_row(row(**overrides))
    assert isinstance(result, Mapped), result
    return result


def refused(**overrides: str) -> RowError:
    result = map_row(row(**overrides))
    assert isinstance(result, RowError), result
    return result


@pytest.mark.parametrize(
    ("event_type", "sub_event"),
    [
        ("Battles", "Non-state actor overtakes territory"),
        ("Battles", "Government regains territory"),
        ("Strategic developments", "Non-violent transfer of territory"),
    ],
)
def test_territory_changing_hands_is_a_capture_by_actor1_from_actor2(
    event_type: str, sub_event: str
) -> None:
    m = mapped(event_type=event_type, sub_event_type=sub_event, assoc_actor_1="Ahrar al-Sham")
    assert m.details == Capture(by=(actor_id(slugify(HTS)), actor_id("ahrar-al-sham")),
                                taken_from=actor_id(slugify(SAA)))  # fmt: skip


def test_a_transfer_with_no_actor2_is_a_capture_from_nobody_known() -> None:
    transfer = "Non-violent transfer of territory"
    m = mapped(event_type="Strategic developments", sub_event_type=transfer, actor2="", inter2="")
    assert m.details == Capture(by=(actor_id(slugify(HTS)),))


def test_an_armed_clash_is_a_clash_between_every_actor() -> None:
    m = mapped(sub_event_type="Armed clash", assoc_actor_2="Hezbollah")
    assert isinstance(m.details, Clash)
    assert len(m.details.parties) == 3


def test_a_clash_with_one_side_is_kept_as_another_event() -> None:
    m = mapped(sub_event_type="Armed clash", actor2="", inter2="")
    assert m.details == OtherEvent("Battles / Armed clash", (actor_id(slugify(HTS)),))


def test_strikes_from_the_air_and_from_the_ground() -> None:
    air = mapped(event_type="Explosions/Remote violence", sub_event_type="Air/drone strike",
                 actor1="Military Forces of Russia (2000-)", inter1="8")  # fmt: skip
    assert air.details == AirStrike(by=actor_id("military-forces-of-russia-2000"),
                                    target_actor=actor_id(slugify(SAA)))  # fmt: skip
    shelling = mapped(event_type="Explosions/Remote violence",
                      sub_event_type="Shelling/artillery/missile attack")  # fmt: skip
    assert isinstance(shelling.details, Strike)
    assert shelling.details.means == "Shelling/artillery/missile attack"


def test_a_base_established_is_an_assessment_that_actor1_holds_the_place() -> None:
    m = mapped(event_type="Strategic developments",
               sub_event_type="Headquarters or base established")  # fmt: skip
    assert m.details == Assessment(AssessedStatus.HELD, (actor_id(slugify(HTS)),))


@pytest.mark.parametrize(
    ("event_type", "sub_event"),
    [("Protests", "Peaceful protest"), ("Violence against civilians", "Attack"),
     ("Riots", "Mob violence"), ("Strategic developments", "Arrests")],
)  # fmt: skip
def test_every_other_type_is_kept_as_an_other_event_never_dropped(
    event_type: str, sub_event: str
) -> None:
    m = mapped(event_type=event_type, sub_event_type=sub_event)
    assert m.details == OtherEvent(
        f"{event_type} / {sub_event}", (actor_id(slugify(HTS)), actor_id(slugify(SAA)))
    )


def test_time_precision_is_the_day_the_week_or_the_month() -> None:
    day = mapped(time_precision="1").valid_time
    week = mapped(time_precision="2").valid_time  # 5 Dec 2024 is a Thursday
    month = mapped(time_precision="3", event_date="2024-12-15").valid_time
    assert (day.precision, day.start) == (TimePrecision.DAY, datetime(2024, 12, 5, tzinfo=UTC))
    assert (week.start, week.end) == (datetime(2024, 12, 2, tzinfo=UTC),
                                      datetime(2024, 12, 9, tzinfo=UTC))  # fmt: skip
    assert (month.start, month.end) == (datetime(2024, 12, 1, tzinfo=UTC),
                                        datetime(2025, 1, 1, tzinfo=UTC))  # fmt: skip
    assert refused(time_precision="4").column == "time_precision"


@pytest.mark.parametrize("text", ["2024-12-05", "05 December 2024", "5 December 2024"])
def test_both_of_acled_s_date_layouts(text: str) -> None:
    assert parse_date(text).isoformat() == "2024-12-05"


@pytest.mark.parametrize(
    ("inter", "kind"),
    [("1", ActorKind.STATE_FORCE), ("State forces", ActorKind.STATE_FORCE),
     ("2", ActorKind.ARMED_GROUP), ("Rebel group", ActorKind.ARMED_GROUP),
     ("3", ActorKind.ARMED_GROUP), ("Identity militia", ActorKind.ARMED_GROUP),
     ("8", ActorKind.FOREIGN_MILITARY), ("External/Other forces", ActorKind.FOREIGN_MILITARY),
     ("6", ActorKind.OTHER), ("Civilians", ActorKind.OTHER), ("", ActorKind.OTHER)],
)  # fmt: skip
def test_actor_kinds_come_from_the_numeric_codes_and_the_2024_labels(
    inter: str, kind: ActorKind
) -> None:
    assert actor_kind(inter) is kind


def test_dated_actor_names_are_kept_and_associated_actors_share_the_main_one_s_type() -> None:
    m = mapped(assoc_actor_1="Ahrar al-Sham; Jaysh al-Izza")
    names = {a.name: a.kind for a in m.actors}
    assert names[SAA] is ActorKind.STATE_FORCE
    assert names["Jaysh al-Izza"] is ActorKind.ARMED_GROUP
    assert [a.slug for a in m.actors][:1] == ["hts-hayat-tahrir-al-sham"]


@pytest.mark.parametrize(
    ("name", "geo", "kind"),
    [("Hama Military Airport", "1", PlaceKind.AIRBASE), ("Kweires Airbase", "1", PlaceKind.AIRBASE),
     ("Brigade 93 Military Base", "1", PlaceKind.MILITARY_SITE), ("Erze", "1", PlaceKind.TOWN),
     ("Hama", "3", PlaceKind.REGION)],
)  # fmt: skip
def test_place_kinds_from_names_and_geo_precision(name: str, geo: str, kind: PlaceKind) -> None:
    assert place_kind(name, geo) is kind


def test_sources_are_split_notes_are_the_quote_and_everything_else_is_kept() -> None:
    m = mapped(geo_precision="2", source_scale="National", tags="crowd size=no report")
    assert [s.outlet for s in m.sources] == ["SOHR", "Reuters"]
    assert m.sources[0].quote == "HTS took Hama."
    assert (m.fatalities, m.revision, m.record_id) == (12, 1733400000, "SYR1")
    kept: dict[str, Any] = dict(m.provenance.attributes)
    assert kept["geo_precision"] == "2"
    assert kept["source_scale"] == "National"
    assert kept["tags"] == "crowd size=no report"
    assert "latitude" not in kept  # Frontline's own fields hold it


def test_a_place_is_known_by_country_admin1_admin2_and_location() -> None:
    spec = mapped().place
    assert spec.key == ("Syria", "Hama", "Hama", "Hama")
    assert spec.slug_candidates()[:3] == ["hama", "hama-hama", "hama-hama-hama-syria"]


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [("event_date", "yesterday", "not a date"), ("latitude", "north", "must be numbers"),
     ("latitude", "123", "latitude"), ("fatalities", "many", "not a whole number"),
     ("fatalities", "-1", "not between 0 and"), ("timestamp", "", "is empty"),
     ("event_id_cnty", "", "is empty"), ("actor1", "", "is empty"),
     # Hostile numbers: no overflow, no float rounding, and a revision PostgreSQL can hold.
     ("timestamp", "9" * 400, "not a whole number"), ("fatalities", "1e400", "not a whole number"),
     ("timestamp", "9999999999999999999", "not between 0 and"),
     ("timestamp", "1.7e9", "not a whole number")],
)  # fmt: skip
def test_a_bad_column_is_named_with_its_reason(column: str, value: str, says: str) -> None:
    error = refused(**{column: value})
    assert error.line == 7
    assert error.column == column
    assert says in error.reason
    assert error.report("acled.csv").startswith(f"acled.csv:7: {column}: ")


def test_the_header_may_come_in_any_order_with_extra_columns() -> None:
    text = (
        "extra,event_id_cnty,latitude,longitude,event_date,event_type,actor1,country,"
        "location,timestamp\nx,SYR9,35,36,2024-12-01,Protests,Civilians (Syria),Syria,Hama,1\n"
    )
    [only] = list(read_acled(text))
    assert (only.line, only.get("event_id_cnty"), only.get("extra")) == (2, "SYR9", "x")
    with pytest.raises(AcledError, match="lacks ACLED's event_id_cnty"):
        list(read_acled("event_date,latitude\n2024-12-01,35\n"))


def test_a_date_at_the_end_of_the_calendar_is_a_bad_row_not_a_crash() -> None:
    assert "past the last date" in refused(event_date="9999-12-15", time_precision="3").reason
    assert refused(event_date="9999-12-31", time_precision="2").column == "event_date"


def test_a_week_or_month_still_under_way_ends_now() -> None:
    now = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # a Tuesday
    week = map_row(row(event_date="2026-11-30", time_precision="2"), now)
    assert isinstance(week, Mapped)
    assert (week.valid_time.start, week.valid_time.end) == (datetime(2026, 11, 30, tzinfo=UTC), now)
    month = map_row(row(event_date="2026-12-01", time_precision="3"), now)
    assert isinstance(month, Mapped)
    assert month.valid_time.end == now
    past = map_row(row(event_date="2026-11-02", time_precision="2"), now)
    assert isinstance(past, Mapped)
    assert past.valid_time.end == datetime(2026, 11, 9, tzinfo=UTC)  # a week that is over


def test_a_row_is_numbered_by_its_first_line_when_its_notes_hold_line_breaks() -> None:
    text = (
        "event_id_cnty,event_date,event_type,actor1,country,location,latitude,longitude,"
        'notes,timestamp\nA1,2024-12-01,Battles,X,Syria,Hama,35,36,"two\nlines",1\n'
        "A2,2024-12-01,Battles,X,Syria,Hama,35,36,one line,1\n"
    )
    assert [r.line for r in read_acled("\ufeff" + text)] == [2, 4]


def test_a_file_past_the_row_bound_is_refused_while_it_is_scanned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from frontline import acled_import  # noqa: PLC0415

    monkeypatch.setattr(acled_import, "MAX_ROWS", 2)
    rows = [row(event_id_cnty=f"A{i}") for i in range(3)]
    assert acled_import.scan(rows[:2]).rows == 2
    with pytest.raises(AcledError, match="more than 2 rows"):
        acled_import.scan(rows)
