"""No number a client sends to the reservations and sessions routes is a 500: 2**63 and 2**70 anywhere are
a 400 naming the field (or, where DRF reads an integer as a UUID or a code, a 404 for the unknown object)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import assert_problem
from tests.reservations.conftest import iso


def _refused(response, field):
    assert response.status_code in (400, 404), response.content
    body = assert_problem(response, response.status_code)
    if response.status_code == 400:
        assert field in body["errors"], body


HUGE = [2**63, 2**70]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("path", ["/api/v1/reservations", "/api/v1/sessions"])
@pytest.mark.parametrize("param", ["limit", "offset"])
def test_paging_numbers(driver_client, path, param, value):
    assert_problem(driver_client.get(path, {param: value}), 400, fields=(param,))


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("field", ["connector_id", "starts_at", "ends_at"])
def test_reservation_body_numbers(driver_client, connector_id, field, value):
    starts_at = datetime.now(UTC) + timedelta(days=1)
    body = {
        "connector_id": str(connector_id),
        "starts_at": iso(starts_at),
        "ends_at": iso(starts_at + timedelta(hours=1)),
    }
    _refused(driver_client.post("/api/v1/reservations", {**body, field: value}, format="json"), field)


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("field", ["connector_id", "code", "reservation_id", "meter_start_wh"])
def test_session_start_numbers(driver_client, connector_id, field, value):
    body = {"connector_id": str(connector_id), field: value} if field != "connector_id" else {field: value}
    if field == "code":
        body = {"code": value}
    _refused(driver_client.post("/api/v1/sessions", body, format="json"), field)
