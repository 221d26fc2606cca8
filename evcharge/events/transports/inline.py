"""Embedded mode and fast tests: the same outbox, relay and inbox-guarded dispatch, in-process."""

from uuid import UUID

from evcharge.events.dispatch import deliver_with_retries
from evcharge.events.registry import consumers_of
from evcharge.events.transports import RelayedEvent


class InlineTransport:
    def send(self, events: list[RelayedEvent]) -> dict[UUID, str]:
        for event in events:
            consumers = consumers_of(event.type)
            envelope = event.envelope() if consumers else None
            for consumer in consumers:
                deliver_with_retries(envelope, consumer)
        return {}

    def wake_relay(self) -> None:
        from evcharge.events.relay import relay_pending

        relay_pending()
