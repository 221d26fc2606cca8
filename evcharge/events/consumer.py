"""Consuming the contexts' queues on RabbitMQ.

Every delivery: parse the envelope, `dispatch.deliver` (inbox row + handlers in ONE transaction),
ack after commit. A duplicate (inbox row exists) is acked and skipped.

A handler error: the message is published to the consumer's retry queue with the attempt number in
the `x-evcharge-attempt` header and a per-message TTL of EVENTS_HANDLER_RETRY_DELAY_SECONDS * 2^(n-1)
(confirmed by the broker), then the failed delivery is acked; when the TTL ends RabbitMQ moves it
back to the tail of the consumer's queue. After EVENTS_HANDLER_MAX_ATTEMPTS it goes to the
dead-letter exchange instead, with `x-evcharge-error`, `x-evcharge-consumer` and
`x-evcharge-attempt` headers, into `<queue>.dead` (where it expires after EVENTS_DEADLETTER_RETENTION_DAYS);
`manage.py events_deadletters` lists and replays it. A body that is no CloudEvent is rejected
without requeue: RabbitMQ dead-letters it into the same queue (with its `x-death` header).
A database error (an outage, a statement timeout) is counted like any other failure, so one message can
never block its queue, but with a longer budget (EVENTS_HANDLER_MAX_ATTEMPTS_DB: with the doubling delay,
about an hour of outage) before it is dead-lettered.

Runs in a Celery worker as a bootstep (`EventConsumerStep`, added in evcharge/celery.py; the
worker consumes the contexts in EVENTS_CONSUMERS, all by default) or standalone with
`manage.py events_consume` / `ConsumerLoop` (tests, benchmarks).
"""

import logging
import threading
import time
from functools import partial
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections, transaction
from django.utils import timezone

from evcharge.events import metrics
from evcharge.events.broker import ConfirmingPublisher, Outgoing
from evcharge.events.dispatch import apply_batch, deliver
from evcharge.events.envelope import EventEnvelope
from evcharge.events.topology import (
    consumer_names,
    dead_letter_exchange_name,
    declare_topology,
    queue_name,
    retry_queue_name,
)

logger = logging.getLogger("evcharge.events.consumer")

ATTEMPT_HEADER = "x-evcharge-attempt"
ERROR_HEADER = "x-evcharge-error"
CONSUMER_HEADER = "x-evcharge-consumer"
FAILED_AT_HEADER = "x-evcharge-failed-at"


def configured_consumers() -> list[str]:
    wanted = [name for name in settings.EVENTS_CONSUMERS if name]
    if wanted == ["none"]:
        return []
    return consumer_names(wanted or None)


class MessageHandler:
    """Handles the deliveries of one or more consumers' queues (kombu messages)."""

    def __init__(self) -> None:
        self._publisher: ConfirmingPublisher | None = None
        self.busy = 0  # deliveries being handled right now
        self._connections_checked_at = 0.0

    def _republish(self, message: Outgoing) -> None:
        for attempt in (1, 2):
            try:
                if self._publisher is None:
                    self._publisher = ConfirmingPublisher(
                        settings.EVENTS_BROKER_URL,
                        connect_timeout=settings.EVENTS_CONNECT_TIMEOUT,
                        confirm_timeout=settings.EVENTS_CONFIRM_TIMEOUT,
                    )
                result = self._publisher.publish_one(message)
                if result.failed:
                    raise RuntimeError(f"broker refused the message: {result.failed}")
                return
            except Exception:
                self.close()
                if attempt == 2:
                    raise

    def handle(self, consumer: str, message) -> None:
        self.handle_batch([(consumer, message)])

    def handle_batch(self, deliveries: list[tuple[str, Any]], *, every_unacked: bool = False) -> None:
        """Applies a batch of deliveries in ONE transaction (each message's inbox row and its handlers' effects
        with it), then acks after the commit. If a message fails, the batch is applied again one transaction per
        message: the failing one is retried or dead-lettered alone; the others commit. `every_unacked`: the
        batch holds every delivery of its channel not yet acknowledged, so one ack frame can cover them all."""
        self.busy += len(deliveries)
        try:
            self._handle_batch(deliveries, every_unacked=every_unacked)
        finally:
            self.busy -= len(deliveries)

    def _handle_batch(self, deliveries: list[tuple[str, Any]], *, every_unacked: bool) -> None:
        parsed = []
        for consumer, message in deliveries:
            try:
                parsed.append((consumer, message, EventEnvelope.from_json(message.body)))
            except Exception:
                logger.exception("undecodable message dead-lettered", extra={"consumer": consumer})
                metrics.dead_lettered.labels(consumer).inc()
                message.reject(requeue=False)
        if not parsed:
            return
        if time.monotonic() - self._connections_checked_at > 1.0:  # CONN_MAX_AGE, broken connections
            close_old_connections()
            self._connections_checked_at = time.monotonic()
        failures = self._apply(parsed)
        metrics.batch_size.observe(len(parsed))
        applied = []
        for index, (consumer, message, envelope) in enumerate(parsed):
            exc = failures.get(index)
            if exc is None:
                applied.append(message)
                continue
            attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
            database = isinstance(exc, (OperationalError, InterfaceError))
            budget = settings.EVENTS_HANDLER_MAX_ATTEMPTS_DB if database else settings.EVENTS_HANDLER_MAX_ATTEMPTS
            self._failed(consumer, envelope, message, attempt, exc, max_attempts=budget)
        if every_unacked:
            _ack_all(applied)
        else:
            for message in applied:
                message.ack()

    @staticmethod
    def _apply(parsed: list[tuple[str, Any, EventEnvelope]]) -> dict[int, Exception]:
        """Applies the batch in one transaction without savepoints (the fast path), skipping redeliveries (in the
        inbox already, or twice in the batch). If a message of a batch of several fails, the batch is rolled back
        and each message applied again in a transaction of its own, so the failing one is retried or
        dead-lettered alone. Returns the failures by position."""
        try:
            with transaction.atomic():
                duplicates = apply_batch([(envelope, consumer) for consumer, _, envelope in parsed])
        except Exception as exc:
            connections["default"].close_if_unusable_or_obsolete()
            if len(parsed) == 1:
                if isinstance(exc, (OperationalError, InterfaceError)):
                    connections.close_all()
                return {0: exc}
        else:
            for index, (consumer, _, envelope) in enumerate(parsed):
                if index in duplicates:
                    logger.info("duplicate event skipped", extra={"consumer": consumer, "event_id": str(envelope.id)})
                    metrics.duplicates.labels(consumer).inc()
                else:
                    metrics.consumed.labels(consumer).inc()
            return {}
        failures: dict[int, Exception] = {}
        for index, (consumer, _, envelope) in enumerate(parsed):
            try:
                deliver(envelope, consumer)
            except (OperationalError, InterfaceError) as exc:
                connections.close_all()
                failures[index] = exc
            except Exception as exc:
                failures[index] = exc
        return failures

    def _failed(
        self, consumer: str, envelope: EventEnvelope, message, attempt: int, exc: Exception, *, max_attempts: int
    ) -> None:
        metrics.handler_failed.labels(consumer).inc()
        error = f"{type(exc).__name__}: {exc}"[:1000]
        final = attempt >= max_attempts
        logger.warning(
            "handler failed" + ("; dead-lettered" if final else "; retrying"),
            exc_info=True,
            extra={"consumer": consumer, "event_type": envelope.type, "event_id": str(envelope.id), "attempt": attempt},
        )
        headers = {**(message.headers or {}), ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error}
        properties = {
            key: value
            for key, value in message.properties.items()
            if key in ("content_type", "content_encoding", "message_id", "type", "app_id", "timestamp")
        }
        properties.update(delivery_mode=2, application_headers=headers)
        if final:
            headers.update(
                {ATTEMPT_HEADER: attempt, CONSUMER_HEADER: consumer, FAILED_AT_HEADER: timezone.now().isoformat()}
            )
            properties["expiration"] = str(settings.EVENTS_DEADLETTER_RETENTION_DAYS * 86_400_000)
            target = Outgoing(envelope.id, dead_letter_exchange_name(), queue_name(consumer), message.body, properties)
        else:
            delay_ms = int(1000 * settings.EVENTS_HANDLER_RETRY_DELAY_SECONDS * 2 ** (attempt - 1))
            properties["expiration"] = str(max(delay_ms, 1))
            target = Outgoing(envelope.id, "", retry_queue_name(consumer), message.body, properties)
        try:
            self._republish(target)
        except Exception:
            logger.exception("could not republish a failed delivery; requeued", extra={"consumer": consumer})
            message.reject(requeue=True)
            return
        if final:
            metrics.dead_lettered.labels(consumer).inc()
        message.ack()

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None


def build_consumers(channel, names: list[str], on_message) -> list:
    """One kombu consumer per context queue; `on_message(consumer, message)` receives each delivery."""
    from kombu import Consumer, Queue

    declare_topology(channel, names)
    return [
        Consumer(
            channel,
            queues=[Queue(queue_name(name), no_declare=True)],
            on_message=partial(on_message, name),
            prefetch_count=max(settings.EVENTS_CONSUMER_PREFETCH, settings.EVENTS_CONSUMER_BATCH),
            tag_prefix=f"evcharge-{name}-",
        )
        for name in names
    ]


class EventConsumerStep(bootsteps.StartStopStep):
    """The Celery worker's consumer of the contexts' event queues (EVENTS_TRANSPORT=rabbitmq only): the same
    batching ConsumerLoop as `manage.py events_consume`, on a connection of its own, in a thread of the worker."""

    requires = ("celery.worker.consumer.connection:Connection",)

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.loop: ConsumerLoop | None = None

    def start(self, parent) -> None:
        if settings.EVENTS_TRANSPORT != "rabbitmq" or self.loop is not None:
            return
        names = configured_consumers()
        _start_metrics_server()
        logger.info("consuming events", extra={"consumers": names})
        self.loop = ConsumerLoop(names).start(timeout=60)

    def stop(self, parent) -> None:
        if self.loop is not None:
            self.loop.stop()
            self.loop = None

    shutdown = stop


def _ack_all(messages: list) -> None:
    """Acks the applied deliveries with one frame when they share a channel: the last one's ack with `multiple`
    covers every delivery before it on that channel still unacknowledged, which are exactly these (the batch held
    every unacknowledged delivery, and the failed ones were acked or rejected already)."""
    if not messages:
        return
    channels = {id(message.channel) for message in messages}
    if len(channels) > 1:
        for message in messages:
            message.ack()
        return
    last = max(messages, key=lambda message: message.delivery_tag)
    last.ack(multiple=True)


def _collect(pending: list, consumer: str, message) -> None:
    pending.append((consumer, message))


def _start_metrics_server() -> None:
    port = getattr(settings, "EVENTS_METRICS_PORT", 0)
    if port and not getattr(_start_metrics_server, "started", False):
        from prometheus_client import start_http_server

        start_http_server(port)
        _start_metrics_server.started = True  # type: ignore[attr-defined]


class ConsumerLoop:
    """Consumes the given contexts' queues in a thread of this process (no Celery worker needed)."""

    def __init__(self, names: list[str] | None = None, *, url: str | None = None) -> None:
        self.names = names if names is not None else configured_consumers()
        self.url = url or settings.EVENTS_BROKER_URL
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.handler = MessageHandler()

    @property
    def busy(self) -> bool:
        return self.handler.busy > 0

    def start(self, *, timeout: float = 10) -> "ConsumerLoop":
        self._thread = threading.Thread(target=self.run, name="events-consumer", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the consumer did not start: {self.error!r}")
        return self

    def stop(self, *, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @staticmethod
    def _fill(connection, pending: list) -> None:
        """Waits up to 0.2 s for a first delivery, then takes what else arrives within EVENTS_CONSUMER_BATCH_WAIT_MS,
        up to EVENTS_CONSUMER_BATCH deliveries."""
        try:
            connection.drain_events(timeout=0.2)
        except TimeoutError:
            return
        deadline = time.monotonic() + settings.EVENTS_CONSUMER_BATCH_WAIT_MS / 1000
        while len(pending) < settings.EVENTS_CONSUMER_BATCH and (left := deadline - time.monotonic()) > 0:
            try:
                connection.drain_events(timeout=left)
            except TimeoutError:
                return

    def run(self) -> None:
        """Consumes until stop(); reconnects with a growing pause when the broker goes away."""
        from kombu import Connection

        handler = self.handler
        pause = 0.5
        try:
            while not self._stop.is_set():
                try:
                    with Connection(self.url, connect_timeout=settings.EVENTS_CONNECT_TIMEOUT) as connection:
                        pending: list[tuple[str, Any]] = []
                        collect = partial(_collect, pending)
                        consumers = build_consumers(connection.channel(), self.names, collect)
                        for consumer in consumers:
                            consumer.consume()
                        self._ready.set()
                        pause = 0.5
                        while not self._stop.is_set():
                            self._fill(connection, pending)
                            if pending:
                                batch, pending[:] = pending[:], []
                                handler.handle_batch(batch, every_unacked=True)
                except Exception as exc:
                    self.error = exc
                    if self._stop.is_set():
                        break
                    logger.warning("consumer connection lost; reconnecting", exc_info=True)
                    self._stop.wait(pause)
                    pause = min(pause * 2, 30)
        finally:
            handler.close()
            connections.close_all()
