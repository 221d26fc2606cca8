"""The database, not the application, decides who wins a contended connector."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from apps.reservations.models import ChargingSession, Reservation
from tests.helpers import run_concurrently
from tests.reservations.conftest import iso


@pytest.mark.postgres
def test_20_concurrent_overlapping_reservations_exactly_one_wins(make_user, client_for, connector_id, outbox):
    clients = [client_for(make_user("driver")) for _ in range(20)]
    base = datetime.now(UTC) + timedelta(hours=2)

    def reserve(index: int):
        # Every window overlaps every other: they all contain [base + 20 min, base + 60 min).
        starts_at = base + timedelta(minutes=index)
        body = {
            "connector_id": str(connector_id),
            "starts_at": iso(starts_at),
            "ends_at": iso(starts_at + timedelta(minutes=60)),
        }
        return clients[index].post("/api/v1/reservations", body, format="json")

    responses = run_concurrently(reserve, 20)
    codes = sorted(r.status_code if hasattr(r, "status_code") else repr(r) for r in responses)
    assert codes == [201] + [409] * 19
    assert all(r["Content-Type"].startswith("application/problem+json") for r in responses if r.status_code == 409)
    assert Reservation.objects.filter(status="confirmed").count() == 1
    assert len(outbox("reservation.created.v1")) == 1


@pytest.mark.postgres
def test_10_concurrent_session_starts_exactly_one_wins(make_user, client_for, connector_id, outbox):
    clients = [client_for(make_user("driver")) for _ in range(10)]

    def start(index: int):
        return clients[index].post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json")

    responses = run_concurrently(start, 10)
    codes = sorted(r.status_code if hasattr(r, "status_code") else repr(r) for r in responses)
    assert codes == [201] + [409] * 9
    assert ChargingSession.objects.filter(connector_id=connector_id, status="active").count() == 1
    assert len(outbox("session.started.v1")) == 1


@pytest.mark.postgres
def test_the_exclusion_constraint_itself_refuses_overlaps(driver, station, connector_id):
    starts_at = datetime.now(UTC) + timedelta(hours=1)
    common = {
        "connector_id": connector_id,
        "station_id": station.station_id,
        "operator_id": station.operator_id,
        "user_id": driver.id,
    }
    Reservation.objects.create(**common, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1))
    with pytest.raises(IntegrityError, match="reservation_no_overlap"), transaction.atomic():
        Reservation.objects.create(
            **common, starts_at=starts_at + timedelta(minutes=30), ends_at=starts_at + timedelta(hours=2)
        )
    # Not-confirmed reservations and touching windows do not count.
    Reservation.objects.create(
        **common, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), status=Reservation.Status.CANCELLED
    )
    Reservation.objects.create(
        **common, starts_at=starts_at + timedelta(hours=1), ends_at=starts_at + timedelta(hours=2)
    )


def test_the_partial_unique_constraint_refuses_a_second_active_session(driver, other_driver, station, connector_id):
    common = {
        "connector_id": connector_id,
        "station_id": station.station_id,
        "operator_id": station.operator_id,
        "connector_type": "CCS2",
        "meter_start_wh": 0,
        "started_at": datetime.now(UTC),
        "tariff": {},
    }
    ChargingSession.objects.create(user_id=driver.id, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChargingSession.objects.create(user_id=other_driver.id, **common)
    ChargingSession.objects.create(user_id=other_driver.id, status="completed", meter_stop_wh=0, energy_wh=0, **common)
