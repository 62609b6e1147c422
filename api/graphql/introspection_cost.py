"""The exact cost of an introspection selection (``__schema``, ``__type``), for api.graphql.cost.

The schema is static, so rather than assume a size for ``types``, ``fields`` or ``args``, this
walks the selection over the schema's own types, counting each value it would resolve, and
memoises (selection, schema object) pairs: a query nesting ``fields { type { fields { type {
… } } } }`` costs what it would resolve, while estimating it stays linear in the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    GraphQLWrappingType,
    InlineFragmentNode,
    SelectionSetNode,
    StringValueNode,
)

# What each introspection field of each introspection type resolves to: (kind, values).
Values = list[tuple[str, Any]]


def introspection_cost(
    schema: GraphQLSchema, node: FieldNode, fragments: dict[str, FragmentDefinitionNode]
) -> int:
    """The cost of a root ``__schema`` or ``__type`` field, as api.graphql.cost counts it."""
    memo: dict[tuple[int, int], int] = {}

    def cost(selection_set: SelectionSetNode | None, kind: str, value: Any) -> int:
        if selection_set is None:
            return 0
        # (name, definition) pairs are made afresh by each walk: key on the definition.
        key = (id(selection_set), id(value[1] if isinstance(value, tuple) else value))
        if key not in memo:
            memo[key] = 0  # a cycle through fragments counts once (the document is invalid)
            total = 0
            for field in _fields(selection_set, fragments, set()):
                total += 1
                for child_kind, child in _children(schema, kind, value, field):
                    total += cost(field.selection_set, child_kind, child)
            memo[key] = total
        return memo[key]

    name = node.name.value
    if name == "__schema":
        return 1 + cost(node.selection_set, "__Schema", schema)
    if name == "__type":
        wanted = next((a.value for a in node.arguments or () if a.name.value == "name"), None)
        if isinstance(wanted, StringValueNode):
            found = schema.get_type(wanted.value)
            return 1 + (0 if found is None else cost(node.selection_set, "__Type", found))
        return 1 + max(
            (cost(node.selection_set, "__Type", t) for t in schema.type_map.values()), default=0
        )
    return 1


def _fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> Iterable[FieldNode]:
    """The fields of a selection with its fragments inlined (introspection types have no
    subtypes, so every type condition holds)."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                seen.add(name)
                yield from _fields(fragments[name].selection_set, fragments, seen)


def _children(schema: GraphQLSchema, kind: str, value: Any, field: FieldNode) -> Values:
    """The values ``field`` of an introspection ``kind`` resolves to on ``value``."""
    name = field.name.value
    if kind == "__Schema":
        return _schema_field(schema, name)
    if kind == "__Type":
        return _type_field(schema, value, name)
    definition = value[1] if isinstance(value, tuple) else value
    if name == "args" and kind in ("__Field", "__Directive"):
        return [("__InputValue", a) for a in definition.args.items()]
    if name == "type" and kind in ("__Field", "__InputValue"):
        return [("__Type", definition.type)]
    return []


def _schema_field(schema: GraphQLSchema, name: str) -> Values:
    if name == "types":
        return [("__Type", t) for t in schema.type_map.values()]
    if name == "directives":
        return [("__Directive", d) for d in schema.directives]
    root = {
        "queryType": schema.query_type,
        "mutationType": schema.mutation_type,
        "subscriptionType": schema.subscription_type,
    }.get(name)
    return [] if root is None else [("__Type", root)]


#: __Type's list fields: which types have them, what they list, and as which kind.
Lister = Callable[[GraphQLSchema, Any], Iterable[Any]]
_TYPE_LISTS: dict[str, tuple[tuple[type, ...], str, Lister]] = {
    "ofType": ((GraphQLWrappingType,), "__Type", lambda _, t: [t.of_type]),
    "fields": (
        (GraphQLObjectType, GraphQLInterfaceType),
        "__Field",
        lambda _, t: t.fields.items(),
    ),
    "interfaces": (
        (GraphQLObjectType, GraphQLInterfaceType),
        "__Type",
        lambda _, t: t.interfaces,
    ),
    "possibleTypes": (
        (GraphQLInterfaceType, GraphQLUnionType),
        "__Type",
        lambda schema, t: schema.get_possible_types(t),
    ),
    "enumValues": ((GraphQLEnumType,), "__EnumValue", lambda _, t: t.values.items()),
    "inputFields": ((GraphQLInputObjectType,), "__InputValue", lambda _, t: t.fields.items()),
}


def _type_field(schema: GraphQLSchema, value: Any, name: str) -> Values:
    found = _TYPE_LISTS.get(name)
    if found is None or not isinstance(value, found[0]):
        return []
    _, kind, values = found
    return [(kind, v) for v in values(schema, value)]
