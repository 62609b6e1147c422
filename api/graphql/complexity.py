"""Query limits that a fragment bomb cannot turn against the server.

Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter` walk every fragment spread anew, so
twenty fragments that each spread the next one twice cost each of them 2**20 steps (seconds
of CPU for a 1 KiB request). `bounded` first counts the fields the operations expand to,
memoising each fragment, in time linear in the document; past `MAX_SELECTIONS` it refuses
the query without running the limits it guards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

#: Fields an operation may expand to once fragments are inlined (aliases count each time).
MAX_SELECTIONS: Final = 5_000
TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"


def expanded_size(document: DocumentNode) -> int:
    """How many fields the document's operations select once every fragment is inlined."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes: dict[str, int] = {}

    def size_of(selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visiting or name not in fragments:
                    continue  # a cycle or an unknown fragment: other rules report it
                if name not in sizes:
                    sizes[name] = size_of(fragments[name].selection_set, visiting | {name})
                total += sizes[name]
            else:
                total += 1 + size_of(getattr(selection, "selection_set", None), visiting)
        return total

    return sum(
        size_of(d.selection_set, frozenset())
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


def bounded(
    rules: Sequence[type[ASTValidationRule]], max_selections: int = MAX_SELECTIONS
) -> type[ASTValidationRule]:
    """One validation rule: refuse a document expanding past ``max_selections`` fields, else
    run ``rules`` (strawberry's limits, which do all their work when constructed)."""

    class Bounded(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            if expanded_size(context.document) > max_selections:
                message = f"the query expands to more than {max_selections} fields"
                context.report_error(GraphQLError(message, extensions={"code": TOO_COMPLEX}))
            else:
                for rule in rules:
                    rule(context)  # each reports to the context as it is built
            super().__init__(context)

    return Bounded
