"""What a query may cost, estimated before it runs; past the limit it is refused unexecuted.

The estimate counts the values a query can make the server resolve. A field costs 1, and its
selection costs once per item it can return: a connection's ``edges`` and ``nodes`` as many
as its ``first`` (a variable counts as the page cap, 100: validation runs before variables
are known, and its result is cached by query text); any other list as many as the domain
lets it hold (``LIST_CAPS``: 20 sources, 50 places or actors…), or ``UNPAGED_LIST`` (100)
where nothing bounds it. Costs multiply down the tree, so this 122-byte query that once took
22 s of CPU, ``{ actors(first:100){nodes{incidents(first:100){nodes{actors{incidents(
first:100){nodes{id}}}}}}}}``, costs about 50 million and is refused at once.

Introspection is counted exactly instead: the schema is known, so ``__schema { types {
fields { … } } }`` costs what it would resolve, type by type (memoised, so nesting costs
nothing to estimate). The playground's introspection costs about 5,000.

The refusal carries ``QUERY_TOO_COSTLY`` and ``extensions.cost`` / ``maxCost``. Work the
estimate does not foresee (a list longer than 100, a slow page) is bounded by the request's
deadline and the statement timeout instead.
"""

from __future__ import annotations

from typing import Final

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from api.graphql.introspection_cost import introspection_cost
from api.graphql.mutation import MAX_BATCH
from api.graphql.types.common import MAX_PAGE
from domain.incidents import MAX_INCIDENT_EVENTS, MAX_INCIDENT_SOURCES
from domain.values import LIST_MAX, PROVENANCE_ATTRIBUTES_MAX
from domain.vocabulary import AircraftOutcome

TOO_COSTLY: Final = "QUERY_TOO_COSTLY"
#: A list nothing bounds (evidence, histories, changes) counts as this many items.
UNPAGED_LIST: Final = 100
#: Lists the domain bounds, by "Type.field".
LIST_CAPS: Final[dict[str, int]] = {
    "Incident.sources": MAX_INCIDENT_SOURCES,
    "Incident.history": MAX_INCIDENT_EVENTS,
    "Provenance.attributes": PROVENANCE_ATTRIBUTES_MAX,
    "AircraftTally.lost": len(AircraftOutcome),
    "AircraftTally.downed": len(AircraftOutcome),
    **dict.fromkeys(
        (
            "Incident.places",
            "Incident.actors",
            "IncidentEvent.places",
            "CaptureDetails.by",
            "ClashDetails.parties",
            "AssessmentDetails.holders",
            "OtherEventDetails.parties",
            "Actor.aliases",
            "Actor.coalitions",
            "Place.aliases",
            "ControlState.controllers",
            "ControlChange.beforeControllers",
            "ControlChange.afterControllers",
        ),
        LIST_MAX,
    ),
}
#: Fields whose single value stands for many: the GeoJSON map is a feature per place, built
#: by PostgreSQL, so it costs as much as a large map (two per request at the default limit).
FIELD_COSTS: Final[dict[str, int]] = {"Query.controlMapGeoJson": 20_000}
#: recordBatch answers a payload per command: as many as sent (a variable: the batch cap).
_BATCH_ARGUMENT: Final = "commands"
_PAGE_FIELDS: Final = frozenset({"edges", "nodes"})


def query_cost(schema: GraphQLSchema, document: DocumentNode) -> int:
    """The estimated cost of the costliest operation in ``document``."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    memo: dict[tuple[str, str, int], int] = {}

    def selection_cost(
        selection_set: SelectionSetNode | None,
        parent: GraphQLType | None,
        page: int,
        visiting: frozenset[str],
    ) -> int:
        if selection_set is None or parent is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += field_cost(selection, parent, page, visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = schema.get_type(condition.name.value) if condition else parent
                total += selection_cost(selection.selection_set, on, page, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                total += spread_cost(selection.name.value, page, visiting)
        return total

    def spread_cost(name: str, page: int, visiting: frozenset[str]) -> int:
        fragment = fragments.get(name)
        if fragment is None or name in visiting:
            return 0  # unknown or cyclic: other validation rules report it
        key = (name, fragment.type_condition.name.value, page)
        if key not in memo:
            on = schema.get_type(fragment.type_condition.name.value)
            memo[key] = selection_cost(fragment.selection_set, on, page, visiting | {name})
        return memo[key]

    def field_cost(
        node: FieldNode, parent: GraphQLType, page: int, visiting: frozenset[str]
    ) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 1 if name == "__typename" else introspection_cost(schema, node, fragments)
        definition = _field(parent, name)
        if definition is None:
            return 0  # FieldsOnCorrectTypeRule reports it
        weight = FIELD_COSTS.get(f"{get_named_type(parent).name}.{name}")
        if weight is not None:
            return weight
        child_page = _first(node)
        items = 1
        if is_list_type(get_nullable_type(definition.type)):
            items = _list_items(f"{get_named_type(parent).name}.{name}", node, name, page)
        children = selection_cost(
            node.selection_set, get_named_type(definition.type), child_page, visiting
        )
        return 1 + items * children

    return max(
        (
            selection_cost(d.selection_set, _root(schema, d), 0, frozenset())
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        ),
        default=0,
    )


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return schema.get_root_type(operation.operation)


def _field(parent: GraphQLType, name: str) -> GraphQLField | None:
    named = get_named_type(parent)
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = named.fields.get(name)
        return found
    return None  # a union has only __typename, handled above


def _first(node: FieldNode) -> int:
    """The page size a connection field asks for: ``first`` as written, else the cap."""
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(0, min(int(value.value), MAX_PAGE))
            return MAX_PAGE
    return 0


def _list_items(qualified: str, node: FieldNode, name: str, page: int) -> int:
    if name in _PAGE_FIELDS and page:
        return page
    if qualified in LIST_CAPS:
        return LIST_CAPS[qualified]
    for argument in node.arguments or ():
        if argument.name.value == _BATCH_ARGUMENT:
            values = getattr(argument.value, "values", None)
            return len(values) if values is not None else MAX_BATCH
    return UNPAGED_LIST


def cost_limit(max_cost: int) -> type[ASTValidationRule]:
    """A validation rule refusing documents whose estimated cost passes ``max_cost``."""

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            cost = query_cost(context.schema, context.document)
            if cost > max_cost:
                context.report_error(
                    GraphQLError(
                        f"the query's estimated cost is {cost:,}, over the limit of "
                        f"{max_cost:,}: ask for smaller pages (first) or fewer nested lists",
                        extensions={"code": TOO_COSTLY, "cost": cost, "maxCost": max_cost},
                    )
                )

    return CostLimit
