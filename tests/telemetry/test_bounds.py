"""Every number of a telemetry event has a maximum that fits its column and what a charger can report."""

import pytest

from apps.telemetry.models import Reading
from evcharge.contracts.telemetry import MAX_METER_WH
from tests.telemetry.conftest import meter, recent

URL = "/api/v1/telemetry/events"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("energy_wh", MAX_METER_WH + 1),
        ("energy_wh", 2**63 - 1),
        ("energy_wh", 2**70),
        ("energy_wh", -1),
        ("power_w", 2**63),
        ("power_w", 10_000_001),
        ("voltage_v", 2**70),
        ("current_a", -(2**63)),
        ("soc_pct", 100.5),
        ("temperature_c", 2**70),
    ],
)
def test_out_of_range_numbers_are_400(operator_client, charger, field, value):
    event = {**meter(charger, ts=recent(5), energy_wh=1), field: value}
    response = operator_client.post(URL, [event], format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {f"0.{field}"}
    assert Reading.objects.count() == 0


def test_the_largest_meter_reading_is_stored(operator_client, charger):
    response = operator_client.post(URL, meter(charger, ts=recent(5), energy_wh=MAX_METER_WH), format="json")
    assert response.status_code == 202, response.content


def test_the_schema_states_the_bounds():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    item = schema["components"]["schemas"]["TelemetryEventInRequest"]["properties"]
    assert item["energy_wh"]["maximum"] == MAX_METER_WH
    assert item["power_w"]["maximum"] == 10_000_000 and item["soc_pct"]["maximum"] == 100
