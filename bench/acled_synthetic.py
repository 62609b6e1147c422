"""A synthetic ACLED export in ACLED's exact layout, for the import benchmark.

Shaped like ACLED's Syria history: about one place per 25 events (Syria has ~12,000 ACLED
locations for ~300,000 events), a few hundred actors with ACLED's dated names, the event types
in roughly ACLED's mix (remote violence and clashes most, territory changes a few per cent),
time precisions 1/2/3, and notes of ACLED's length. Deterministic per seed; written as it is
generated, so a million rows never sit in memory.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from frontline.acled import COLUMNS

START = date(2012, 1, 1)
DAYS = 12 * 365
ADMIN1 = [
    "Aleppo", "Idleb", "Hama", "Homs", "Lattakia", "Tartous", "Damascus", "Rural Damascus",
    "Dara", "Quneitra", "As-Sweida", "Deir-ez-Zor", "Ar-Raqqa", "Al-Hasakeh",
]  # fmt: skip
TYPES = [  # (event_type, sub_event_type, weight)
    ("Explosions/Remote violence", "Shelling/artillery/missile attack", 30),
    ("Explosions/Remote violence", "Air/drone strike", 20),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", 5),
    ("Battles", "Armed clash", 25),
    ("Battles", "Non-state actor overtakes territory", 2),
    ("Battles", "Government regains territory", 2),
    ("Strategic developments", "Non-violent transfer of territory", 1),
    ("Strategic developments", "Headquarters or base established", 1),
    ("Violence against civilians", "Attack", 8),
    ("Protests", "Peaceful protest", 6),
]
SIDES = [("State forces", "Military Forces of Syria ({})"), ("Rebel group", "Rebel Group {}"),
         ("External/Other forces", "Military Forces of Country {}"),
         ("Identity militia", "Clan Militia {}")]  # fmt: skip


def places(n: int, rng: random.Random) -> list[tuple[str, str, str, float, float]]:
    """(admin1, admin2, location, latitude, longitude) of ``n`` places."""
    found = []
    for i in range(n):
        admin1 = ADMIN1[i % len(ADMIN1)]
        name = f"Location {i}" + (" Military Airport" if i % 400 == 7 else "")
        latitude, longitude = round(rng.uniform(32.5, 37.0), 4), round(rng.uniform(35.8, 42.0), 4)
        found.append((admin1, f"{admin1} District {i % 7}", name, latitude, longitude))
    return found


def actors(n: int) -> list[tuple[str, str]]:
    """(inter label, name) of ``n`` actors, ACLED's dated names for state forces."""
    found = []
    for i in range(n):
        label, pattern = SIDES[i % len(SIDES)]
        found.append((label, pattern.format("2000-2024" if i == 0 else i)))
    return found


def rows(n: int, seed: int = 7) -> Iterator[list[str]]:
    """``n`` rows in ACLED's column order."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    where = places(max(n // 25, 10), rng)
    who = actors(max(min(n // 500, 400), 8))
    weights = [w for _, _, w in TYPES]
    for i in range(n):
        event_type, sub_event, _ = rng.choices(TYPES, weights)[0]
        day = START + timedelta(days=i * DAYS // n)
        admin1, admin2, location, lat, lon = rng.choice(where)
        (inter1, actor1), (inter2, actor2) = rng.sample(who, 2)
        if event_type == "Protests":
            inter1, actor1, inter2, actor2 = "Protesters", "Protesters (Syria)", "", ""
        precision = rng.choices("123", (85, 10, 5))[0]
        yield [
            f"SYR{i + 1}", day.strftime("%d %B %Y"), str(day.year), precision,
            "Political violence", event_type, sub_event, actor1, "", inter1, actor2, "",
            inter2, f"{inter1}-{inter2}", "", "760", "Middle East", "Syria", admin1, admin2, "",
            location, f"{lat}", f"{lon}", rng.choice("112"), "SOHR; Local Sources",
            "Local partner-Other",
            f"On {day:%d %B %Y}, {actor1} and {actor2 or 'others'} were involved in an event "
            f"in {location} ({admin1}); {rng.randint(0, 9)} people were reported killed.",
            str(rng.choice((0, 0, 0, 1, 2, 5))), "", str(1_700_000_000 + i),
        ]  # fmt: skip


def write(out: TextIO, n: int, seed: int = 7) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(n, seed))


def write_file(path: Path, n: int, seed: int = 7) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        write(out, n, seed)
    return path
