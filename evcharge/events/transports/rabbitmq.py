"""RabbitMQ: topic exchange, routing key = event type, persistent, publisher confirms, mandatory."""

import logging
import threading
from uuid import UUID

from django.conf import settings
from kombu import Connection, Exchange

from evcharge.events.envelope import CLOUDEVENTS_CONTENT_TYPE, EventEnvelope

logger = logging.getLogger("evcharge.events.rabbitmq")


def events_exchange() -> Exchange:
    return Exchange(settings.EVENTS_EXCHANGE, type="topic", durable=True)


class RabbitMQTransport:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    def _producer_connection(self) -> Connection:
        if self._connection is None:
            self._connection = Connection(
                settings.CELERY_BROKER_URL, transport_options={"confirm_publish": True}, connect_timeout=5
            )
        return self._connection

    def send(self, envelopes: list[EventEnvelope]) -> dict[UUID, str]:
        with self._lock:
            try:
                connection = self._producer_connection()
                connection.ensure_connection(max_retries=1)
                producer = connection.Producer(exchange=events_exchange())
                for envelope in envelopes:
                    producer.publish(
                        envelope.to_json(),
                        routing_key=envelope.type,
                        content_type=CLOUDEVENTS_CONTENT_TYPE,
                        content_encoding="utf-8",
                        delivery_mode=2,
                        mandatory=True,
                        message_id=str(envelope.id),
                        declare=[events_exchange()],
                    )
            except Exception as exc:
                logger.warning("publish failed", exc_info=True)
                self.close()
                return {envelope.id: f"{type(exc).__name__}: {exc}" for envelope in envelopes}
        return {}

    def wake_relay(self) -> None:
        from evcharge.events.tasks import relay_outbox

        try:
            relay_outbox.delay()
        except Exception:
            logger.warning("could not wake the relay; the periodic sweep will send the rows", exc_info=True)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            finally:
                self._connection = None
