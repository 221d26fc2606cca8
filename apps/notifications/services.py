"""What each event tells whom. One Notification per affected user and event (idempotent), logged."""

import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.notifications import selectors
from apps.notifications.models import ActiveSession, Notification
from evcharge.actor import Actor
from evcharge.contracts import stations as stations_contract
from evcharge.errors import NotFound
from evcharge.money import format_money

logger = logging.getLogger("evcharge.notifications")

INTERRUPTING_STATUSES = ("Faulted", "Unavailable", "SuspendedEVSE")


@dataclass(frozen=True)
class Message:
    user_id: UUID
    title: str
    body: str
    related: dict[str, Any] = field(default_factory=dict)


def _money(amount: int, currency: str) -> str:
    """In the currency's own minor units (¥500, KWD1.234, €12.34); a code outside the table is shown as it came
    rather than losing the notification."""
    try:
        return format_money(amount, currency)
    except ValueError:
        return f"{amount} {currency} (minor units)"


def format_energy(energy_wh: int) -> str:
    whole, rest = divmod(energy_wh, 1000)
    return f"{whole}.{rest // 10:02d} kWh"


def _connector_label(connector_id: UUID) -> tuple[str, str]:
    """("Station name, connector 2 (CCS2)", time zone), from the stations facade when it answers."""
    try:
        view = stations_contract.facade().connector(connector_id)
    except LookupError:
        view = None
    if view is None:
        return "the connector", "UTC"
    return f"{view.station_name or 'the station'}, connector {view.number} ({view.type})", view.station_timezone


def _local(at: datetime, tz_name: str) -> str:
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _ids(data: Any, *names: str) -> dict[str, str]:
    return {name: str(getattr(data, name)) for name in names if getattr(data, name, None) is not None}


# --- one composer per event type: data -> the messages to record ---


def _reservation_created(data) -> list[Message]:
    where, tz = _connector_label(data.connector_id)
    return [
        Message(
            data.user_id,
            "Reservation confirmed",
            f"{where} is reserved for you from {_local(data.starts_at, tz)} to {_local(data.ends_at, tz)}.",
            _ids(data, "reservation_id", "connector_id", "station_id"),
        )
    ]


def _reservation_cancelled(data) -> list[Message]:
    by_someone_else = data.cancelled_by is not None and data.cancelled_by != data.user_id
    reason = " by the operator" if by_someone_else else ""
    return [
        Message(
            data.user_id,
            "Reservation cancelled",
            f"Your reservation was cancelled{reason}.",
            _ids(data, "reservation_id", "connector_id", "station_id"),
        )
    ]


def _reservation_expired(data) -> list[Message]:
    return [
        Message(
            data.user_id,
            "Reservation expired",
            "Your reservation expired: no charging session started in its window.",
            _ids(data, "reservation_id", "connector_id", "station_id"),
        )
    ]


def _session_started(data) -> list[Message]:
    where, tz = _connector_label(data.connector_id)
    return [
        Message(
            data.user_id,
            "Charging started",
            f"Charging started at {where} at {_local(data.started_at, tz)}.",
            _ids(data, "session_id", "connector_id", "station_id", "reservation_id"),
        )
    ]


def _session_completed(data) -> list[Message]:
    minutes = max(0, int((data.ended_at - data.started_at).total_seconds() // 60))
    return [
        Message(
            data.user_id,
            "Charging complete",
            f"Your session delivered {format_energy(data.energy_wh)} in {minutes} min.",
            _ids(data, "session_id", "connector_id", "station_id"),
        )
    ]


def _invoice_generated(data) -> list[Message]:
    discount = f" (after a {_money(data.discount_amount, data.currency)} discount)" if data.discount_amount else ""
    return [
        Message(
            data.user_id,
            "Your invoice is ready",
            f"Total {_money(data.total_amount, data.currency)}{discount}.",
            _ids(data, "invoice_id", "session_id", "station_id"),
        )
    ]


def _payment_succeeded(data) -> list[Message]:
    return [
        Message(
            data.user_id,
            "Payment received",
            f"We received {_money(data.amount, data.currency)}. Thank you!",
            _ids(data, "payment_id", "invoice_id", "session_id", "station_id"),
        )
    ]


def _payment_failed(data) -> list[Message]:
    return [
        Message(
            data.user_id,
            "Payment failed",
            f"Your payment of {_money(data.amount, data.currency)} failed: {data.reason}. "
            "Please try another payment method.",
            _ids(data, "payment_id", "invoice_id"),
        )
    ]


def _station_status_changed(data) -> list[Message]:
    """Only the driver charging at that connector, and only when charging is interrupted."""
    if data.new_status not in INTERRUPTING_STATUSES:
        return []
    active = selectors.active_session_at(data.connector_id)
    if active is None:
        return []
    where, _ = _connector_label(data.connector_id)
    return [
        Message(
            active.user_id,
            "Charging interrupted",
            f"{where} reports {data.new_status}. Check your vehicle or contact the operator.",
            {**_ids(data, "connector_id", "station_id"), "session_id": str(active.session_id)},
        )
    ]


COMPOSERS: dict[str, Callable[[Any], list[Message]]] = {
    "reservation.created.v1": _reservation_created,
    "reservation.cancelled.v1": _reservation_cancelled,
    "reservation.expired.v1": _reservation_expired,
    "session.started.v1": _session_started,
    "session.completed.v1": _session_completed,
    "invoice.generated.v1": _invoice_generated,
    "payment.succeeded.v1": _payment_succeeded,
    "payment.failed.v1": _payment_failed,
    "station.status_changed.v1": _station_status_changed,
}


# --- use cases ---


@transaction.atomic
def notifications_record_for_event(*, event_id: UUID, event_type: str, data: Any) -> list[Notification]:
    """Records what this event tells each affected user (none if it tells nobody)."""
    kind = event_type.rsplit(".", 1)[0]
    recorded = []
    for message in COMPOSERS[event_type](data):
        notification, created = Notification.objects.get_or_create(
            user_id=message.user_id,
            event_id=event_id,
            defaults={
                "kind": kind,
                "title": message.title,
                "body": message.body,
                "event_type": event_type,
                "related": message.related,
            },
        )
        if created:
            logger.info(
                "notification recorded",
                extra={"notification_id": str(notification.id), "kind": kind, "recipient": str(message.user_id)},
            )
        recorded.append(notification)
    return recorded


@transaction.atomic
def active_session_track(*, session_id: UUID, connector_id: UUID, user_id: UUID, started_at: datetime) -> None:
    ActiveSession.objects.update_or_create(
        connector_id=connector_id, defaults={"session_id": session_id, "user_id": user_id, "started_at": started_at}
    )


@transaction.atomic
def active_session_forget(*, session_id: UUID) -> None:
    ActiveSession.objects.filter(session_id=session_id).delete()


@transaction.atomic
def notification_mark_read(*, notification_id: UUID, by: Actor) -> Notification:
    notification = Notification.objects.select_for_update().filter(id=notification_id, user_id=by.user_id).first()
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
