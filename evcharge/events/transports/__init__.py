from typing import NamedTuple, Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

from evcharge.events.envelope import EventEnvelope

TRANSPORTS = {
    "inline": "evcharge.events.transports.inline.InlineTransport",
    "rabbitmq": "evcharge.events.transports.rabbitmq.RabbitMQTransport",
}


class RelayedEvent(NamedTuple):
    """An outbox row on its way out: the envelope's JSON exactly as stored, parsed only if needed. A tuple: the
    relay makes one per row, hundreds per batch, while the broker's messages wait for the same interpreter."""

    id: UUID
    type: str
    body: bytes

    def envelope(self) -> EventEnvelope:
        return EventEnvelope.from_json(self.body)


class Transport(Protocol):
    def send(self, events: list[RelayedEvent]) -> dict[UUID, str]:
        """Sends a batch; returns the ids that failed with their error (empty: all sent)."""

    def wake_relay(self) -> None:
        """Called after a publishing transaction commits."""


_instances: dict[str, Transport] = {}


def get_transport() -> Transport:
    name = settings.EVENTS_TRANSPORT
    if name not in TRANSPORTS:
        raise ValueError(f"EVENTS_TRANSPORT={name!r}; expected one of {sorted(TRANSPORTS)}")
    if name not in _instances:
        _instances[name] = import_string(TRANSPORTS[name])()
    return _instances[name]


def reset_transports() -> None:
    """Drops cached transports (their connections); tests call it when settings change."""
    for transport in _instances.values():
        close = getattr(transport, "close", None)
        if close:
            close()
    _instances.clear()
