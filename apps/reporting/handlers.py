"""The read model follows station, reservation, session, invoice and payment events (thin: call a service)."""

from apps.reporting import services
from evcharge.events import EventEnvelope, subscriber

CONSUMER = "reporting"


@subscriber("station.created.v1", consumer=CONSUMER)
@subscriber("station.updated.v1", consumer=CONSUMER)
def on_station_changed(event: EventEnvelope) -> None:
    services.station_record(station=event.data, at=event.time)


@subscriber("station.status_changed.v1", consumer=CONSUMER)
def on_connector_status_changed(event: EventEnvelope) -> None:
    services.station_status_record(change=event.data)


@subscriber("reservation.created.v1", consumer=CONSUMER)
@subscriber("reservation.cancelled.v1", consumer=CONSUMER)
@subscriber("reservation.expired.v1", consumer=CONSUMER)
def on_reservation_event(event: EventEnvelope) -> None:
    services.event_apply(envelope=event)


@subscriber("session.started.v1", consumer=CONSUMER)
def on_session_started(event: EventEnvelope) -> None:
    services.session_record_started(started=event.data)


@subscriber("session.completed.v1", consumer=CONSUMER)
def on_session_completed(event: EventEnvelope) -> None:
    services.session_record_completed(completed=event.data)


@subscriber("invoice.generated.v1", consumer=CONSUMER)
def on_invoice_generated(event: EventEnvelope) -> None:
    services.invoice_record(invoice=event.data)


@subscriber("invoice.updated.v1", consumer=CONSUMER)
def on_invoice_updated(event: EventEnvelope) -> None:
    services.invoice_update_record(invoice=event.data)


@subscriber("invoice.voided.v1", consumer=CONSUMER)
def on_invoice_voided(event: EventEnvelope) -> None:
    services.invoice_void_record(voided=event.data)


@subscriber("payment.succeeded.v1", consumer=CONSUMER)
@subscriber("payment.failed.v1", consumer=CONSUMER)
@subscriber("payment.refunded.v1", consumer=CONSUMER)
def on_payment_event(event: EventEnvelope) -> None:
    services.event_apply(envelope=event)
