"""Demo: Dana Driver's past charging session and her upcoming reservation. Idempotent.

Connectors come from this context's read model, filled by the stations seeder's station.created.v1 events."""

import uuid
from datetime import timedelta

from django.utils import timezone

from apps.reservations import services
from apps.reservations.demo_charger import SimulatedChargers
from apps.reservations.models import ChargingSession, Connector, Reservation
from evcharge.actor import DRIVER, Actor
from evcharge.errors import DomainError

DEMO_NAMESPACE = uuid.UUID("6f1d1c1e-3b9a-4a57-9d2e-7c6d0e2f4a10")
PAST_SESSION_ID = uuid.uuid5(DEMO_NAMESPACE, "past-session")
DRIVER_EMAIL = "driver@evcharge.test"


def _usable_connectors():
    return Connector.objects.filter(present=True, station_enabled=True).exclude(status__in=["Faulted", "Unavailable"])


def seed(context: dict) -> None:
    driver_id = context.get("users", {}).get(DRIVER_EMAIL)
    connectors = list(_usable_connectors().order_by("station_name", "number")[:2])
    summary = context.setdefault("summary", [])
    if driver_id is None or not connectors:
        summary.append("Reservations: no demo data (no driver or no usable connector in the read model).")
        return
    _seed_past_session(driver_id=driver_id, connector=connectors[0])
    reservation = _seed_upcoming_reservation(driver_id=driver_id, connector=connectors[-1])
    summary.append(f"Reservations: {DRIVER_EMAIL} has a completed session (12.5 kWh) and {_describe(reservation)}")


def _describe(reservation: Reservation | None) -> str:
    """The reservation by its own id (a reservation has no code; the connector it holds has one)."""
    if reservation is None:
        return "no upcoming reservation (none could be made)."
    connector = Connector.objects.filter(id=reservation.connector_id).first()
    where = (
        f" at {connector.station_name} #{connector.number} {connector.type} (connector code {connector.code})"
        if connector
        else ""
    )
    return (
        f"reservation {reservation.id} on {reservation.starts_at:%Y-%m-%d %H:%M} UTC{where}: "
        f"GET /api/v1/reservations/{reservation.id}."
    )


def _seed_past_session(*, driver_id: uuid.UUID, connector: Connector) -> None:
    if ChargingSession.objects.filter(id=PAST_SESSION_ID).exists():
        return
    ended_at = (timezone.now() - timedelta(days=1)).replace(minute=40, second=0, microsecond=0)
    try:
        _record_past_session(driver_id=driver_id, connector=connector, ended_at=ended_at)
    except DomainError:  # e.g. no tariff for the station yet: the demo goes on without the past session
        return


def _record_past_session(*, driver_id: uuid.UUID, connector: Connector, ended_at) -> None:
    services.session_record_completed(
        session_id=PAST_SESSION_ID,
        user_id=driver_id,
        connector_id=connector.id,
        started_at=ended_at - timedelta(minutes=40),
        ended_at=ended_at,
        charging_ended_at=ended_at - timedelta(minutes=5),
        meter_start_wh=100_000,
        meter_stop_wh=112_500,
    )


def _seed_upcoming_reservation(*, driver_id: uuid.UUID, connector: Connector) -> Reservation | None:
    upcoming = Reservation.objects.filter(
        user_id=driver_id, status=Reservation.Status.CONFIRMED, starts_at__gt=timezone.now()
    ).first()
    if upcoming is not None:
        return upcoming
    starts_at = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    try:
        return services.reservation_create(
            connector_id=connector.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            by=Actor(user_id=driver_id, role=DRIVER),
        )
    except DomainError:
        return None


def start(context: dict) -> SimulatedChargers | None:
    """After seeding, when the demo serves: the demo stations' simulated chargers (see demo_charger)."""
    keys = context.get("charger_keys")
    if not keys or not context.get("base_url"):
        return None
    return SimulatedChargers(base_url=context["base_url"], keys=keys, interval_s=context.get("tick_s", 2.0)).start()
