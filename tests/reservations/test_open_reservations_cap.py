"""A driver holds at most RESERVATIONS_MAX_OPEN_PER_DRIVER confirmed reservations not yet over (409
too_many_reservations), also under concurrent requests."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.reservations.models import Reservation
from tests.helpers import assert_problem, run_concurrently
from tests.reservations.conftest import iso


def _body(connector_id, slot: int) -> dict:
    starts_at = datetime.now(UTC) + timedelta(hours=2 + 2 * slot)
    return {
        "connector_id": str(connector_id),
        "starts_at": iso(starts_at),
        "ends_at": iso(starts_at + timedelta(hours=1)),
    }


def test_the_fourth_open_reservation_is_409(driver_client, other_driver_client, connector_id, outbox):
    ids = []
    for slot in range(3):
        response = driver_client.post("/api/v1/reservations", _body(connector_id, slot), format="json")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    refused = driver_client.post("/api/v1/reservations", _body(connector_id, 3), format="json")
    assert assert_problem(refused, 409)["code"] == "too_many_reservations"
    assert len(outbox("reservation.created.v1")) == 3

    # Another driver is not affected; a cancelled or past reservation no longer counts.
    assert other_driver_client.post("/api/v1/reservations", _body(connector_id, 4), format="json").status_code == 201
    driver_client.post(f"/api/v1/reservations/{ids[0]}/cancel")
    assert driver_client.post("/api/v1/reservations", _body(connector_id, 5), format="json").status_code == 201
    past = datetime.now(UTC) - timedelta(hours=3)
    Reservation.objects.filter(id=ids[1]).update(starts_at=past, ends_at=past + timedelta(hours=1))
    assert driver_client.post("/api/v1/reservations", _body(connector_id, 6), format="json").status_code == 201


def test_the_cap_is_a_setting(settings, driver_client, connector_id):
    settings.RESERVATIONS_MAX_OPEN_PER_DRIVER = 1
    assert driver_client.post("/api/v1/reservations", _body(connector_id, 0), format="json").status_code == 201
    refused = driver_client.post("/api/v1/reservations", _body(connector_id, 1), format="json")
    assert refused.json()["code"] == "too_many_reservations"


@pytest.mark.postgres
def test_concurrent_requests_do_not_pass_the_cap(driver, client_for, station, connector_id, outbox):
    clients = [client_for(driver) for _ in range(10)]
    assert clients[0].post("/api/v1/reservations", _body(connector_id, 0), format="json").status_code == 201
    connectors = [c.connector_id for c in station.chargers[0].connectors]

    def reserve(index: int):
        # Windows that never overlap each other: only the cap can refuse them.
        return clients[index].post("/api/v1/reservations", _body(connectors[index % 2], 1 + index), format="json")

    responses = run_concurrently(reserve, 10)
    codes = sorted(r.status_code if hasattr(r, "status_code") else repr(r) for r in responses)
    assert codes == [201, 201] + [409] * 8
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"too_many_reservations"}
    assert Reservation.objects.filter(status="confirmed").count() == 3
    assert len(outbox("reservation.created.v1")) == 3
