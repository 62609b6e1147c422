"""Every name api/graphql/patches/ relies on in strawberry-graphql and graphql-core (and
frontline/event_store.py in eventsourcing) is still
where the patches expect it, with the signature they expect (and domain/creation.py's
events are the library's own): a release that moves one
fails here in a second, instead of silently undoing a fix (the memory leak, the fan-out's
speed) in production. pyproject.toml pins the ranges these checks were written for."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from importlib.metadata import version

from eventsourcing import persistence as es_persistence
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from graphql import execute
from graphql.execution import executor as graphql_executor
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.extensions import MaskErrors, SchemaExtension, ValidationCache
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.base import BaseSchema
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES, Schema
from strawberry.subscriptions.protocols.graphql_transport_ws import handlers
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from api.graphql.patches.graphql_core import fresh_subfield_memo
from api.graphql.patches.strawberry import FastErrorCheck
from domain.creation import built, created
from domain.details import OtherEvent
from domain.identity import place_id
from domain.incidents import Incident
from domain.values import RequestMeta, Source, ValidTime
from domain.vocabulary import TimePrecision


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_releases_are_those_the_patches_were_written_for() -> None:
    assert version("strawberry-graphql").startswith("0.341.")
    assert version("graphql-core").startswith("3.3.")


def test_graphql_core_keeps_the_subfield_memo_the_leak_fix_replaces() -> None:
    source = inspect.getsource(graphql_executor)
    assert "self._relevant_sub_fields" in source
    assert "relevant_sub_fields = self._relevant_sub_fields" in source
    assert parameters(graphql_executor.Executor.build_per_event_executor) == ["self", "payload"]

    class Executor:
        def __init__(self) -> None:
            self._relevant_sub_fields: dict[object, object] = {"old": "entry"}

    per_event = Executor()
    fresh_subfield_memo(per_event)
    assert per_event._relevant_sub_fields == {}


def test_mask_errors_still_processes_results_the_way_the_fast_check_overrides() -> None:
    assert parameters(MaskErrors._process_result) == ["self", "result"]
    assert callable(MaskErrors._process_errors)
    assert FastErrorCheck._process_result is not MaskErrors._process_result


def test_the_validation_cache_sets_pre_execution_errors_in_on_validate() -> None:
    source = inspect.getsource(ValidationCache.on_validate)
    assert "pre_execution_errors" in source


def test_the_transport_ws_handler_has_what_the_api_overrides_and_reads() -> None:
    base = handlers.BaseGraphQLTransportWSHandler
    assert parameters(base.run_operation) == ["self", "operation"]
    assert parameters(base.handle_subscribe) == ["self", "message"]
    assert parameters(base.handle) == ["self"]
    assert parameters(base.send_message) == ["self", "message"]
    source = inspect.getsource(base)
    for attribute in ("self.operations", "self.connection_acknowledged", "self.websocket"):
        assert attribute in source, attribute
    operation = inspect.getsource(handlers.Operation)
    assert "self.completed" in operation
    assert "def send_operation_message" in operation


def test_the_asgi_websocket_adapter_keeps_the_socket_fan_out_writes_to() -> None:
    assert "self.ws = " in inspect.getsource(ASGIWebSocketAdapter)


def test_the_http_view_methods_the_api_overrides_keep_their_signatures() -> None:
    assert parameters(AsyncBaseHTTPView.execute_single) == [
        "self", "request", "request_adapter", "sub_response", "context", "root_value",
        "request_data",
    ]  # fmt: skip
    assert parameters(AsyncBaseHTTPView.process_result) == ["self", "request", "result"]
    assert parameters(AsyncBaseHTTPView.run) == ["self", "request", "context", "root_value"]


def test_eventsourcing_still_saves_through_the_recorder_method_the_event_store_overrides() -> None:
    """frontline.event_store.ArrayInsertRecorder replaces ``insert_events``; eventsourcing's
    EventStore.put must still call it with the stored events and pair the ids it returns
    with them, and the factory must still take the recorder class from the environment."""
    assert version("eventsourcing").startswith("9.5.")
    assert parameters(PostgresApplicationRecorder.insert_events) == [
        "self",
        "stored_events",
        "kwargs",
    ]
    put = inspect.getsource(es_persistence.EventStore.put)
    assert "notification_ids = self.recorder.insert_events(stored_events, **kwargs)" in put
    assert "zip(" in put
    assert "APPLICATION_RECORDER_TOPIC" in inspect.getsource(PostgresFactory.application_recorder)


def test_a_created_event_built_without_its_aggregate_is_the_librarys_own() -> None:
    """domain/creation.py builds ``Incident.Recorded`` as ``BaseAggregate._create`` would and
    skips the aggregate: the event, and the aggregate built from it, must be the library's."""
    kwargs = {
        "details": OtherEvent("Protests / Peaceful protest"),
        "valid_time": ValidTime(datetime(2024, 12, 5, tzinfo=UTC), TimePrecision.DAY),
        "place_ids": (place_id("hama"),),
        "actor_ids": (),
        "sources": (Source("SOHR"),),
        "summary": None,
        "meta": RequestMeta(None, "k", "f"),
    }  # no fatalities nor provenance: the library fills in their defaults
    theirs = Incident(**kwargs)
    event = created(Incident, Incident.create_id(kwargs["meta"]), kwargs)
    (expected,) = theirs.pending_events
    assert type(event) is type(expected)
    assert vars(event) | {"timestamp": None} == vars(expected) | {"timestamp": None}
    ours = built(event)
    assert ours.pending_events == [event]
    timed = ("_created_on", "_modified_on", "_pending_events")  # the events' timestamps
    assert {k: v for k, v in vars(ours).items() if k not in timed} == {
        k: v for k, v in vars(theirs).items() if k not in timed
    }


def test_strawberry_keeps_what_the_prepared_path_calls() -> None:
    """api.graphql.prepared runs graphql-core's execute as Strawberry's Schema.execute does,
    with Strawberry's helpers: each still there, shaped as it was."""
    assert set(DEFAULT_ALLOWED_OPERATION_TYPES) == set(OperationType)
    assert execution_context_class_kwargs(None) == {}
    assert list(execution_context_class_kwargs(object).values()) == [object]  # type: ignore[arg-type]
    assert parameters(BaseSchema._process_errors) == ["self", "errors", "execution_context"]
    assert parameters(get_operation_type) == ["graphql_document", "operation_name"]
    assert parameters(Schema.execute)[1:] == [
        "query", "variable_values", "context_value", "root_value", "operation_name",
        "allowed_operation_types", "operation_extensions",
    ]  # fmt: skip
    assert {"executor_class", "is_awaitable", "operation_name"} <= set(parameters(execute))
    assert callable(SchemaExtension._implements_resolve)
    assert isinstance(ExecutionContext.operation_name, property)
    assert parameters(MaskErrors._process_errors) == ["self", "errors"]
