"""RabbitMQ: topic exchange, routing key = event type, persistent, structured CloudEvents, and each
batch published with `mandatory` and then confirmed by the broker as a whole (see broker.py).

A message RabbitMQ returns as unroutable (no queue bound for its type) was still accepted and
confirmed: nobody subscribes to that type yet, which is legitimate (e.g. a new event type). It counts
as sent, is counted in evcharge_events_unroutable_total and logged. Queues of every registered
consumer are declared before the first publish, so "unroutable" never means "consumer not started yet".
"""

import logging
import threading
from uuid import UUID

from django.conf import settings

from evcharge.events import metrics
from evcharge.events.broker import BatchResult, ConfirmingPublisher, Outgoing
from evcharge.events.envelope import CLOUDEVENTS_CONTENT_TYPE
from evcharge.events.topology import declare_topology, exchange_name
from evcharge.events.transports import RelayedEvent

logger = logging.getLogger("evcharge.events.rabbitmq")


def message_properties(event_id: UUID | str, event_type: str, headers: dict | None = None) -> dict:
    properties = {
        "content_type": CLOUDEVENTS_CONTENT_TYPE,
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "message_id": str(event_id),
        "type": event_type,
        "app_id": "evcharge",
    }
    if headers:
        properties["application_headers"] = headers
    return properties


class RabbitMQTransport:
    remote = True  # no handler runs during a send: the relay may hold its transaction open across it

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._publisher: ConfirmingPublisher | None = None

    def _connected_publisher(self) -> ConfirmingPublisher:
        if self._publisher is None:
            publisher = ConfirmingPublisher(
                settings.EVENTS_BROKER_URL,
                connect_timeout=settings.EVENTS_CONNECT_TIMEOUT,
                confirm_timeout=settings.EVENTS_CONFIRM_TIMEOUT,
            )
            try:
                declare_topology(publisher.channel)
            except Exception:
                publisher.close()
                raise
            self._publisher = publisher
        return self._publisher

    def send(self, events: list[RelayedEvent]) -> dict[UUID, str]:
        with self._lock:
            try:
                result = self._publish(events)
            except Exception as exc:
                self.close()
                logger.warning("publish failed; the rows stay unsent", exc_info=exc)
                return {event.id: f"{type(exc).__name__}: {exc}" for event in events}
        if result.returned:
            types = {event.id: event.type for event in events}
            for event_id in result.returned:
                metrics.unroutable.labels(types[event_id]).inc()
                logger.info(
                    "event routed to no queue", extra={"event_id": str(event_id), "event_type": types[event_id]}
                )
        return result.failed

    def _publish(self, events: list[RelayedEvent]) -> BatchResult:
        exchange = exchange_name()
        outgoing = [
            Outgoing(event.id, exchange, event.type, event.body, message_properties(event.id, event.type))
            for event in events
        ]
        reused = self._publisher is not None
        try:
            self._connected_publisher().publish_nowait(outgoing)
        except Exception:
            if not reused:
                raise
            # An idle connection may have been dropped: once more on a fresh one (a message the
            # broker did take before is then published twice, which consumers absorb).
            logger.info("publish failed on a reused connection; reconnecting", exc_info=True)
            self.close()
            self._connected_publisher().publish_nowait(outgoing)
        return self._connected_publisher().wait_for_confirms()

    def wake_relay(self) -> None:
        from evcharge.events.tasks import relay_outbox

        try:
            relay_outbox.delay()
        except Exception:
            logger.warning("could not wake the relay; the periodic sweep will send the rows", exc_info=True)

    def close(self) -> None:
        if self._publisher is not None:
            try:
                self._publisher.close()
            finally:
                self._publisher = None
