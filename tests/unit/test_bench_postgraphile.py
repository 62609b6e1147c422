"""The PostGraphile peer of the throughput row (bench/postgraphile.py), as far as it can be
checked without Node.js or a database: the request it sends, the pin it installs, the flags
it runs with."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from graphql import FieldNode, OperationDefinitionNode, StringValueNode, parse

from bench import postgraphile
from bench.load import SMALL

ROOT = Path(__file__).resolve().parents[2]


def _root_field(query: str) -> FieldNode:
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    field = operation.selection_set.selections[0]
    assert isinstance(field, FieldNode)
    return field


def _selected(field: FieldNode) -> list[str]:
    assert field.selection_set is not None
    return [s.name.value for s in field.selection_set.selections if isinstance(s, FieldNode)]


@pytest.mark.parametrize("slug", ["hama", "place-0007", 'a "quoted" \\ slug', "Ḥamāh"])
def test_the_body_is_json_asking_for_the_slug(slug: str) -> None:
    field = _root_field(json.loads(postgraphile.body_for(slug))["query"])
    assert field.name.value == "placeBySlug"
    (argument,) = field.arguments or ()
    assert argument.name.value == "slug"
    assert isinstance(argument.value, StringValueNode)
    assert argument.value.value == slug


def test_the_peer_selects_what_frontline_does() -> None:
    peer = _root_field(postgraphile.PEER_QUERY % '"x"')
    assert _selected(peer) == _selected(_root_field(SMALL % "x"))


def test_package_json_pins_an_exact_4_14_that_the_lock_file_holds() -> None:
    package = json.loads((postgraphile.PEER_DIR / "package.json").read_text())
    lock = json.loads((postgraphile.PEER_DIR / "package-lock.json").read_text())
    pinned = package["dependencies"]["postgraphile"]
    assert re.fullmatch(r"4\.14\.\d+", pinned), pinned  # exact: no ^ or ~
    assert lock["packages"][""]["dependencies"]["postgraphile"] == pinned
    assert lock["packages"]["node_modules/postgraphile"]["version"] == pinned


def test_node_modules_is_ignored_by_git() -> None:
    assert "bench/peer/node_modules/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_flags_serve_rm_read_only_without_extras() -> None:
    flags = postgraphile.FLAGS
    assert flags[flags.index("--schema") + 1] == "rm"
    assert flags[flags.index("--host") + 1] == "127.0.0.1"
    assert {"--disable-graphiql", "--disable-query-log", "--disable-default-mutations"} <= set(
        flags
    )
    assert not {"--watch", "--subscriptions", "--live", "--cluster-workers"} & set(flags)


def test_without_node_there_is_no_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bench.postgraphile.shutil.which", lambda _name: None)
    assert postgraphile.ensure_installed() is None
