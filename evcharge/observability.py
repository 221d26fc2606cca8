"""OpenTelemetry: traces for Django requests, Celery tasks and psycopg queries.

`setup()` runs once per process (from the platform's AppConfig.ready(), so for web, worker, beat,
manage.py and tests alike). Spans are always recorded, so log lines and event envelopes carry a
trace id; they leave the process over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
OTEL_SDK_DISABLED=true turns all of it off.

The trace crosses the event bus inside the envelope: `publish()` writes the current span's
`traceparent`, and `consume_span()` (used by the inbox-guarded dispatch) continues it in the consumer.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

logger = logging.getLogger("evcharge.observability")
_lock = threading.Lock()
_configured = False


def setup(settings: Any) -> bool:
    """Installs the tracer provider and the instrumentations once. Returns whether tracing is on."""
    global _configured
    with _lock:
        if _configured:
            return True
        if settings.OTEL_SDK_DISABLED:
            return False
        provider = TracerProvider(resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME}))
        if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
        _instrument()
        _configured = True
        return True


def _instrument() -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    DjangoInstrumentor().instrument(excluded_urls="health/,metrics")
    _probes_first()
    CeleryInstrumentor().instrument()
    PsycopgInstrumentor().instrument(skip_dep_check=True, enable_commenter=False)


def _probes_first() -> None:
    """The tracing middleware validates the Host header; probes and scrapes (pod IP as Host) must answer before it."""
    from django.conf import settings

    probes = "evcharge.platform.health.HealthCheckMiddleware"
    middleware = list(settings.MIDDLEWARE)
    if probes in middleware:
        middleware.remove(probes)
        settings.MIDDLEWARE = [probes, *middleware]


tracer = trace.get_tracer("evcharge.events")


def untraced(function: Callable[..., Any], *args: Any) -> Any:
    """Runs `function` with the instrumentations off: for a helper thread's statements, which would each be a
    trace of their own (a thread starts without its caller's span), and cost their spans on every call."""
    with suppress_instrumentation():
        return function(*args)


@contextmanager
def consume_span(envelope: Any, consumer: str) -> Iterator[trace.Span]:
    """A CONSUMER span for one event delivery, a child of the span that published it (envelope.traceparent)."""
    parent = propagate.extract({"traceparent": envelope.traceparent}) if envelope.traceparent else None
    with tracer.start_as_current_span(
        f"{envelope.type} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "evcharge.events",
            "messaging.operation.type": "process",
            "messaging.destination.name": envelope.type,
            "messaging.message.id": str(envelope.id),
            "messaging.consumer.group.name": consumer,
        },
    ) as span:
        yield span
