import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from apps.notifications.models import Notification
from evcharge.contracts.billing import InvoiceGenerated, PaymentFailed, PaymentSucceeded
from evcharge.contracts.pricing import TariffSnapshot
from evcharge.contracts.reservations import (
    ReservationCancelled,
    ReservationCreated,
    ReservationExpired,
    SessionCompleted,
    SessionStarted,
)
from evcharge.contracts.stations import StationStatusChanged
from evcharge.events import publish
from evcharge.events.dispatch import DUPLICATE, deliver

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)

TARIFF = TariffSnapshot(
    rate_plan_id=None,
    currency="EUR",
    energy_price_per_kwh=39,
    time_price_per_min=0,
    session_fee=0,
    idle_fee_per_min=0,
    idle_grace_min=0,
)


def emit(*events):
    envelopes = []
    with transaction.atomic():
        for event in events:
            envelopes.append(publish(event))
    return envelopes


def ids():
    return {"connector_id": uuid.uuid4(), "station_id": uuid.uuid4()}


def session_started(user_id, connector_id=None, session_id=None):
    return SessionStarted(
        session_id=session_id or uuid.uuid4(),
        connector_id=connector_id or uuid.uuid4(),
        station_id=uuid.uuid4(),
        user_id=user_id,
        operator_id=uuid.uuid4(),
        connector_type="CCS2",
        reservation_id=None,
        meter_start_wh=0,
        started_at=NOW,
        tariff=TARIFF,
    )


def session_completed(started: SessionStarted, energy_wh=12345):
    return SessionCompleted(
        session_id=started.session_id,
        connector_id=started.connector_id,
        station_id=started.station_id,
        user_id=started.user_id,
        operator_id=started.operator_id,
        connector_type="CCS2",
        reservation_id=None,
        meter_start_wh=0,
        meter_stop_wh=energy_wh,
        energy_wh=energy_wh,
        started_at=NOW,
        ended_at=NOW + timedelta(minutes=42),
        charging_ended_at=None,
        tariff=TARIFF,
    )


def event_for(kind: str, user_id):
    reservation_id = uuid.uuid4()
    invoice_id = uuid.uuid4()
    if kind == "reservation.created":
        return ReservationCreated(
            reservation_id=reservation_id, user_id=user_id, starts_at=NOW, ends_at=NOW + timedelta(hours=1), **ids()
        )
    if kind == "reservation.cancelled":
        return ReservationCancelled(reservation_id=reservation_id, user_id=user_id, cancelled_by=user_id, **ids())
    if kind == "reservation.expired":
        return ReservationExpired(reservation_id=reservation_id, user_id=user_id, **ids())
    if kind == "session.started":
        return session_started(user_id)
    if kind == "session.completed":
        return session_completed(session_started(user_id))
    if kind == "invoice.generated":
        return InvoiceGenerated(
            invoice_id=invoice_id,
            session_id=uuid.uuid4(),
            user_id=user_id,
            station_id=uuid.uuid4(),
            currency="EUR",
            subtotal_amount=1234,
            discount_amount=200,
            total_amount=1034,
        )
    if kind == "payment.succeeded":
        return PaymentSucceeded(
            payment_id=uuid.uuid4(),
            invoice_id=invoice_id,
            session_id=uuid.uuid4(),
            user_id=user_id,
            station_id=uuid.uuid4(),
            amount=1034,
            discount_amount=200,
            currency="EUR",
        )
    if kind == "payment.failed":
        return PaymentFailed(
            payment_id=uuid.uuid4(),
            invoice_id=invoice_id,
            user_id=user_id,
            amount=1034,
            currency="EUR",
            reason="declined",
        )
    raise AssertionError(kind)


KINDS = [
    ("reservation.created", "Reservation confirmed", "reservation_id"),
    ("reservation.cancelled", "Reservation cancelled", "reservation_id"),
    ("reservation.expired", "Reservation expired", "reservation_id"),
    ("session.started", "Charging started", "session_id"),
    ("session.completed", "Charging complete", "session_id"),
    ("invoice.generated", "Your invoice is ready", "invoice_id"),
    ("payment.succeeded", "Payment received", "payment_id"),
    ("payment.failed", "Payment failed", "payment_id"),
]


@pytest.mark.parametrize(("kind", "title", "related_id"), KINDS)
def test_each_event_records_a_notification_for_its_user(driver, kind, title, related_id):
    event = event_for(kind, driver.id)
    (envelope,) = emit(event)

    notification = Notification.objects.get(event_id=envelope.id)  # (other contexts may react with more events)
    assert (notification.user_id, notification.kind, notification.title) == (driver.id, kind, title)
    assert notification.event_id == envelope.id and notification.event_type == f"{kind}.v1"
    assert notification.related[related_id] == str(getattr(event, related_id))
    assert notification.body and notification.read_at is None


def test_bodies_carry_money_and_energy_exactly(driver):
    started = session_started(driver.id)
    envelopes = emit(event_for("invoice.generated", driver.id), session_completed(started, energy_wh=12345))
    bodies = {n.kind: n.body for n in Notification.objects.filter(event_id__in=[e.id for e in envelopes])}
    assert bodies["invoice.generated"] == "Total €10.34 (after a €2.00 discount)."
    assert bodies["session.completed"] == "Your session delivered 12.34 kWh in 42 min."


@pytest.mark.parametrize(
    ("currency", "total", "discount", "shown"),
    [
        ("JPY", 500, 50, "Total ¥500 (after a ¥50 discount)."),
        ("KWD", 1234, 5, "Total KWD1.234 (after a KWD0.005 discount)."),
        ("EUR", 1234, 0, "Total €12.34."),
    ],
)
def test_amounts_are_shown_in_their_currencys_own_minor_units(driver, currency, total, discount, shown):
    invoice = InvoiceGenerated(
        invoice_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        user_id=driver.id,
        station_id=uuid.uuid4(),
        currency=currency,
        subtotal_amount=total + discount,
        discount_amount=discount,
        total_amount=total,
    )
    payment = PaymentSucceeded(
        payment_id=uuid.uuid4(),
        invoice_id=invoice.invoice_id,
        session_id=invoice.session_id,
        user_id=driver.id,
        station_id=invoice.station_id,
        amount=total,
        discount_amount=discount,
        currency=currency,
    )
    envelopes = emit(invoice, payment)

    bodies = {n.kind: n.body for n in Notification.objects.filter(event_id__in=[e.id for e in envelopes])}
    assert bodies["invoice.generated"] == shown
    assert bodies["payment.succeeded"] == f"We received {shown.split()[1].rstrip('.')}. Thank you!"


def test_a_reservation_names_the_connector_in_its_stations_time_zone(operator_client, driver):
    station = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Hudson Yards",
            "latitude": 40.75,
            "longitude": -74.0,
            "timezone": "America/New_York",
            "chargers": [{"serial": "N-1", "max_power_kw": 50, "connectors": [{"number": 2, "type": "CCS1"}]}],
        },
        format="json",
    ).json()
    connector_id = uuid.UUID(station["chargers"][0]["connectors"][0]["id"])
    emit(
        ReservationCreated(
            reservation_id=uuid.uuid4(),
            connector_id=connector_id,
            station_id=uuid.UUID(station["id"]),
            user_id=driver.id,
            starts_at=NOW,
            ends_at=NOW + timedelta(hours=1),
        )
    )
    body = Notification.objects.get().body
    assert body.startswith("Hudson Yards, connector 2 (CCS1) is reserved for you from 2026-11-25 09:00 EST")


def test_get_notifications_lists_only_the_callers_own_newest_first(
    driver, other_driver, driver_client, other_driver_client, anon
):
    emit(event_for("reservation.created", driver.id))
    emit(event_for("payment.failed", other_driver.id))
    emit(event_for("session.started", driver.id))

    response = driver_client.get("/api/v1/notifications")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [n["kind"] for n in body["results"]] == ["session.started", "reservation.created"]
    assert {"id", "title", "body", "related", "event_id", "created_at", "read_at"} <= set(body["results"][0])
    assert [n["kind"] for n in other_driver_client.get("/api/v1/notifications").json()["results"]] == ["payment.failed"]
    page = driver_client.get("/api/v1/notifications", {"limit": 1}).json()
    assert len(page["results"]) == 1 and page["next"]
    assert anon.get("/api/v1/notifications").status_code == 401


def test_mark_read(driver, driver_client, other_driver_client):
    emit(event_for("reservation.created", driver.id), event_for("reservation.expired", driver.id))
    newest = driver_client.get("/api/v1/notifications").json()["results"][0]

    assert other_driver_client.post(f"/api/v1/notifications/{newest['id']}/read").status_code == 404
    response = driver_client.post(f"/api/v1/notifications/{newest['id']}/read")
    assert response.status_code == 200 and response.json()["read"] is True
    first_read_at = response.json()["read_at"]
    assert driver_client.post(f"/api/v1/notifications/{newest['id']}/read").json()["read_at"] == first_read_at
    unread = driver_client.get("/api/v1/notifications", {"unread": "true"}).json()["results"]
    assert [n["kind"] for n in unread] == ["reservation.created"]


def test_a_redelivered_event_records_nothing_twice(driver):
    (envelope,) = emit(event_for("payment.succeeded", driver.id))
    assert deliver(envelope, "notifications") == DUPLICATE
    assert Notification.objects.count() == 1


def test_status_changes_notify_only_the_driver_charging_there_when_interrupted(driver, other_driver):
    connector_id = uuid.uuid4()
    started = session_started(driver.id, connector_id=connector_id)

    def status_changed(new_status):
        return StationStatusChanged(
            station_id=started.station_id,
            charger_id=uuid.uuid4(),
            connector_id=connector_id,
            connector_type="CCS2",
            old_status="Charging",
            new_status=new_status,
            changed_at=NOW,
        )

    emit(status_changed("Faulted"))  # nobody charging: nobody to tell
    assert not Notification.objects.exists()

    emit(started)
    emit(status_changed("SuspendedEV"))  # the car paused: not news
    emit(status_changed("Faulted"))
    interrupted = Notification.objects.get(kind="station.status_changed")
    assert interrupted.user_id == driver.id and interrupted.title == "Charging interrupted"
    assert interrupted.related["session_id"] == str(started.session_id)

    emit(session_completed(started))
    emit(status_changed("Faulted"))
    assert Notification.objects.filter(kind="station.status_changed").count() == 1
    assert not Notification.objects.filter(user_id=other_driver.id).exists()


def test_admin_lists_notifications(make_user, driver):
    from django.test import Client

    emit(event_for("payment.failed", driver.id))
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    notification = Notification.objects.get()
    assert browser.get("/admin/notifications/notification/?kind=payment.failed").status_code == 200
    assert browser.get(f"/admin/notifications/notification/{notification.id}/change/").status_code == 200
