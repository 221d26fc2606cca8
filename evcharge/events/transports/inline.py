"""Embedded mode and fast tests: the same outbox, relay and inbox-guarded dispatch, in-process."""

from uuid import UUID

from evcharge.events.dispatch import deliver_with_retries
from evcharge.events.envelope import EventEnvelope
from evcharge.events.registry import consumers_of


class InlineTransport:
    def send(self, envelopes: list[EventEnvelope]) -> dict[UUID, str]:
        for envelope in envelopes:
            for consumer in consumers_of(envelope.type):
                deliver_with_retries(envelope, consumer)
        return {}

    def wake_relay(self) -> None:
        from evcharge.events.relay import relay_pending

        relay_pending()
