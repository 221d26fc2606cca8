"""Every number a stations route takes has a maximum fitting its column and the business: 2**63 and
2**70 (and NaN, infinity) are a 400 naming the field, never a 500."""

import pytest

from apps.stations.models import Station
from tests.helpers import assert_problem
from tests.stations.conftest import BERLIN, connectors_of, payload

HUGE = [2**63, -(2**70), "NaN"]


def _charger(**overrides) -> dict:
    charger = {"serial": "B-1", "max_power_kw": 22, "connectors": [{"number": 1, "type": "TYPE2"}]}
    return {**charger, **overrides}


def _with_connector(**overrides) -> dict:
    return _charger(connectors=[{"number": 1, "type": "TYPE2", **overrides}])


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize(
    ("field", "build"),
    [
        ("latitude", lambda v: payload(BERLIN, latitude=v)),
        ("longitude", lambda v: payload(BERLIN, longitude=v)),
        ("chargers.0.max_power_kw", lambda v: payload(BERLIN, chargers=[_charger(max_power_kw=v)])),
        ("chargers.0.connectors.0.number", lambda v: payload(BERLIN, chargers=[_with_connector(number=v)])),
        ("chargers.0.connectors.0.max_power_kw", lambda v: payload(BERLIN, chargers=[_with_connector(max_power_kw=v)])),
    ],
)
def test_create_station_bounds(operator_client, field, build, value):
    response = operator_client.post("/api/v1/stations", build(value), format="json")
    assert_problem(response, 400, fields=(field,))
    assert Station.objects.count() == 0


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("field", ["latitude", "longitude"])
def test_patch_station_bounds(operator_client, berlin, field, value):
    response = operator_client.patch(f"/api/v1/stations/{berlin['id']}", {field: value}, format="json")
    assert_problem(response, 400, fields=(field,))


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize(
    ("field", "build"),
    [
        ("max_power_kw", lambda v: _charger(serial="B-9", max_power_kw=v)),
        ("connectors.0.number", lambda v: {**_with_connector(number=v), "serial": "B-9"}),
        ("connectors.0.max_power_kw", lambda v: {**_with_connector(max_power_kw=v), "serial": "B-9"}),
    ],
)
def test_add_charger_bounds(operator_client, berlin, field, build, value):
    response = operator_client.post(f"/api/v1/stations/{berlin['id']}/chargers", build(value), format="json")
    assert_problem(response, 400, fields=(field,))


@pytest.mark.parametrize("value", [2**70, "nan", 20000])
def test_radius_is_capped(driver_client, berlin, value):
    response = driver_client.get("/api/v1/stations", {"near": "52.5,13.4", "radius_km": value})
    assert_problem(response, 400, fields=("radius_km",))


@pytest.mark.parametrize("value", [2**70, 41])
def test_qr_scale_is_bounded(operator_client, berlin, value):
    connector = connectors_of(berlin)[0]
    response = operator_client.get(f"/api/v1/connectors/{connector['id']}/qr", {"scale": value})
    assert_problem(response, 400, fields=("scale",))


@pytest.mark.parametrize("param", ["limit", "offset"])
def test_paging_numbers(driver_client, param):
    assert_problem(driver_client.get("/api/v1/stations", {param: 2**70}), 400, fields=(param,))
