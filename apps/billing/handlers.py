"""Subscribers to the session events (thin: call a service; the inbox makes redelivery harmless)."""

from apps.billing import services
from evcharge.contracts.reservations import SessionCompleted, SessionStarted
from evcharge.events import EventEnvelope, subscriber


@subscriber("session.started.v1", consumer="billing")
def on_session_started(event: EventEnvelope[SessionStarted]) -> None:
    services.invoice_open_for_session(started=event.data)


@subscriber("session.completed.v1", consumer="billing")
def on_session_completed(event: EventEnvelope[SessionCompleted]) -> None:
    services.invoice_complete_session(completed=event.data)
