"""Query limits that a fragment bomb or a repetitive document cannot turn against the server.

Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter` walk every fragment spread anew, so
twenty fragments that each spread the next one twice cost each of them 2**20 steps (seconds
of CPU for a 1 KiB request). `bounded` first counts the fields the operations expand to,
memoising each fragment, in time linear in the document; past `MAX_SELECTIONS` it refuses
the query without running the limits it guards.

graphql-core's own rule that fields of one name must merge (OverlappingFieldsCanBeMerged)
compares every pair of same-named fields in a selection: a 16 KB document asking
`controlAt` 440 times cost 0.8 s of CPU to *validate*. No honest query asks one field more
than a few times at one level (aliases give distinct names), so ``RefuseRepetitive`` refuses
a document asking any field, or spreading any fragment, more than ``MAX_REPEATS`` times in
one selection, before validation runs at all (a validation rule could not stop the others).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Final

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import ValidationCache

#: Fields an operation may expand to once fragments are inlined (aliases count each time).
MAX_SELECTIONS: Final = 5_000
#: Times one selection may ask the same field (by response name) or spread one fragment.
MAX_REPEATS: Final = 20
TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"


def max_repeats(document: DocumentNode) -> int:
    """The most times any selection of the document asks one response name or spreads one
    fragment (inline fragments count as part of the selection they sit in)."""
    worst = 0
    for definition in document.definitions:
        selection_set = getattr(definition, "selection_set", None)
        pending = [selection_set] if selection_set is not None else []
        while pending:
            counts: Counter[str] = Counter()
            for selection in _flattened(pending.pop()):
                if isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    counts["field " + name] += 1
                    if selection.selection_set is not None:
                        pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    counts["fragment " + selection.name.value] += 1
            worst = max(worst, *counts.values(), 0)
    return worst


def _flattened(selection_set: SelectionSetNode) -> Iterator[object]:
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            yield from _flattened(selection.selection_set)
        else:
            yield selection


class GuardedValidationCache(ValidationCache):
    """Strawberry's validation cache, refusing a repetitive document instead of validating
    it (see the module's docstring): its own hook validates unconditionally, so the refusal
    has to happen here rather than in an extension of its own (api.graphql.patches.strawberry)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        repeats = 0 if document is None else max_repeats(document)
        if repeats > MAX_REPEATS:
            message = (
                f"a selection asks one field or fragment {repeats} times; at most "
                f"{MAX_REPEATS} (give repeated fields aliases of their own)"
            )
            context.pre_execution_errors = [GraphQLError(message, extensions={"code": TOO_COMPLEX})]
            yield
            return
        yield from super().on_validate()


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
