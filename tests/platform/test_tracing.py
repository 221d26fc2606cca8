"""One trace from the HTTP request, through the outbox and the bus, into the consumer's handler."""

import json
import logging

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from evcharge.api.logging import JsonFormatter
from evcharge.events import registry
from evcharge.events.dispatch import deliver
from evcharge.events.models import OutboxMessage

_exporter = InMemorySpanExporter()


@pytest.fixture
def spans():
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "evcharge.observability.setup() installs the SDK provider"
    if not getattr(provider, "_evcharge_test_exporter", False):
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        provider._evcharge_test_exporter = True
    _exporter.clear()
    yield _exporter
    _exporter.clear()


@pytest.fixture
def consumed(monkeypatch):
    """A test consumer of user.created.v1 recording the span it runs in (unregistered afterwards)."""
    monkeypatch.setattr(registry, "_subscriptions", list(registry._subscriptions))
    seen: list[trace.SpanContext] = []

    @registry.subscriber("user.created.v1", consumer="tracing_probe")
    def on_user_created(event):
        seen.append(trace.get_current_span().get_span_context())

    return seen


def register(client):
    response = client.post(
        "/api/v1/auth/register", {"email": "trace@example.test", "password": "a-long-secret-42"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response


def server_span(spans):
    [span] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    return span


def test_a_request_and_the_handler_of_its_event_share_one_trace(anon, spans, consumed):
    register(anon)
    request_span = server_span(spans)
    [handler_context] = consumed
    assert handler_context.trace_id == request_span.context.trace_id

    [consumer_span] = [s for s in spans.get_finished_spans() if s.name == "user.created.v1 process"]
    assert consumer_span.kind == SpanKind.CONSUMER
    assert consumer_span.context.trace_id == request_span.context.trace_id
    assert consumer_span.attributes["messaging.consumer.group.name"] == "tracing_probe"


def test_the_trace_travels_inside_the_envelope(anon, spans, consumed, outbox):
    """As with RabbitMQ: the consumer runs elsewhere, with nothing but the envelope to go on."""
    register(anon)
    request_span = server_span(spans)
    [envelope] = outbox("user.created.v1")
    _version, trace_id, parent_span_id, _flags = envelope.traceparent.split("-")
    assert int(trace_id, 16) == request_span.context.trace_id

    OutboxMessage.objects.all().delete()
    from evcharge.events.models import InboxMessage

    InboxMessage.objects.filter(consumer="tracing_probe").delete()
    consumed.clear()
    spans.clear()
    token = otel_context.attach(otel_context.Context())  # no current span, as in a worker process
    try:
        deliver(envelope, "tracing_probe")
    finally:
        otel_context.detach(token)
    [consumer_span] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert consumer_span.context.trace_id == request_span.context.trace_id
    assert format(consumer_span.parent.span_id, "016x") == parent_span_id
    assert consumed[0].span_id == consumer_span.context.span_id


def test_database_queries_are_traced_on_postgresql(anon, spans, settings):
    from django.db import connection

    register(anon)
    if connection.vendor != "postgresql":
        pytest.skip("psycopg instrumentation: PostgreSQL only (SQLite has no driver spans)")
    request_span = server_span(spans)
    queries = [
        s
        for s in spans.get_finished_spans()
        if s.attributes.get("db.system", s.attributes.get("db.system.name")) == "postgresql"
    ]
    assert queries, [s.name for s in spans.get_finished_spans()]
    assert all(q.context.trace_id == request_span.context.trace_id for q in queries)


def test_celery_tasks_are_traced(spans):
    from evcharge.celery import app

    @app.task(name="tests.tracing.probe")
    def probe():
        return trace.get_current_span().get_span_context().trace_id

    trace_id = probe.apply().get()
    task_spans = [s for s in spans.get_finished_spans() if "tests.tracing.probe" in s.name]
    assert task_spans and task_spans[0].context.trace_id == trace_id


def test_log_lines_carry_the_trace_id(spans):
    tracer = trace.get_tracer("tests")
    record = logging.LogRecord("evcharge.test", logging.INFO, __file__, 1, "hello", (), None)
    with tracer.start_as_current_span("work") as span:
        line = json.loads(JsonFormatter().format(record))
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_no_exporter_leaves_the_process_without_an_endpoint(settings):
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = trace.get_tracer_provider()
    processors = provider._active_span_processor._span_processors
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        pytest.skip("an OTLP endpoint is configured for this run")
    assert not any(isinstance(p, BatchSpanProcessor) for p in processors)


def test_an_otlp_endpoint_turns_the_exporter_on():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup(); from opentelemetry import trace;"
        "p = trace.get_tracer_provider()._active_span_processor._span_processors;"
        "print([type(x).__name__ + ':' + type(x.span_exporter).__name__ + ':' + x.span_exporter._endpoint for x in p])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318", DJANGO_SETTINGS_MODULE="evcharge.settings")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "BatchSpanProcessor:OTLPSpanExporter:http://collector:4318/v1/traces" in result.stdout


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_one_trace_from_the_request_through_rabbitmq_into_the_handler(bus, anon, spans):
    seen: list[trace.SpanContext] = []
    bus.subscribe("user.created.v1", consumer="tracing_rabbit")(
        lambda event: seen.append(trace.get_current_span().get_span_context())
    )
    register(anon)
    bus.wait_until(lambda: seen)
    request_span = server_span(spans)
    assert seen[0].trace_id == request_span.context.trace_id
    assert seen[0].span_id != request_span.context.span_id  # the handler runs in its own consumer span


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_a_relay_draining_a_backlog_adds_no_trace_per_statement(bus, spans, settings):
    """The relay task's own statements belong to its trace; its helper threads' statements (which would start
    traces of their own, one per batch and statement) are not recorded."""
    from evcharge.events.relay import relay_pending

    settings.EVENTS_RELAY_BATCH_SIZE = 100
    bus.stop()
    with trace.get_tracer("tests").start_as_current_span("evcharge.events.relay") as task_span:
        OutboxMessage.objects.bulk_create(
            [OutboxMessage(id=e.id, type=e.type, envelope=e.to_dict()) for e in _user_created_envelopes(450)]
        )
        assert relay_pending() == 450  # the first batch on this thread, the next four through the lanes

    queries = [s for s in spans.get_finished_spans() if s.attributes.get("db.system") == "postgresql"]
    assert queries
    assert {q.context.trace_id for q in queries} == {task_span.get_span_context().trace_id}
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def _user_created_envelopes(count):
    from uuid import uuid4

    from evcharge.contracts.identity import UserCreated
    from evcharge.events.envelope import EventEnvelope

    return [EventEnvelope.wrap(UserCreated(user_id=uuid4(), role="driver")) for _ in range(count)]
