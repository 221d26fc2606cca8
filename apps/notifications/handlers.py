"""Every event that concerns a user becomes a Notification (see services.COMPOSERS for the wording)."""

from apps.notifications import services
from evcharge.events import EventEnvelope, subscriber


@subscriber("reservation.created.v1", consumer="notifications")
@subscriber("reservation.cancelled.v1", consumer="notifications")
@subscriber("reservation.expired.v1", consumer="notifications")
@subscriber("invoice.generated.v1", consumer="notifications")
@subscriber("payment.succeeded.v1", consumer="notifications")
@subscriber("payment.failed.v1", consumer="notifications")
@subscriber("station.status_changed.v1", consumer="notifications")
def on_user_facing_event(event: EventEnvelope) -> None:
    services.notifications_record_for_event(event_id=event.id, event_type=event.type, data=event.data)


@subscriber("session.started.v1", consumer="notifications")
def on_session_started(event: EventEnvelope) -> None:
    data = event.data
    services.active_session_track(
        session_id=data.session_id, connector_id=data.connector_id, user_id=data.user_id, started_at=data.started_at
    )
    services.notifications_record_for_event(event_id=event.id, event_type=event.type, data=data)


@subscriber("session.completed.v1", consumer="notifications")
def on_session_completed(event: EventEnvelope) -> None:
    services.active_session_forget(session_id=event.data.session_id)
    services.notifications_record_for_event(event_id=event.id, event_type=event.type, data=event.data)
