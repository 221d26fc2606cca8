"""A priced station with one DC connector and its charger reporting meter readings with the operator's API key,
set up over HTTP as an operator would; the driver pages' tests open it as people do."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient


@dataclass
class Network:
    station: dict
    charger: dict
    connector: dict
    charger_client: APIClient

    @property
    def code(self) -> str:
        return self.connector["code"]

    def report_meter(self, energy_wh: int) -> None:
        reading = {
            "charger_id": self.charger["id"],
            "connector_id": self.connector["id"],
            "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "kind": "meter",
            "energy_wh": energy_wh,
        }
        posted = self.charger_client.post("/api/v1/telemetry/events", reading, format="json")
        assert posted.status_code == 202, posted.content


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    from apps.billing.gateways import TestGateway

    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.fixture
def network(operator_client) -> Network:
    plan = operator_client.post(
        "/api/v1/pricing/rate-plans",
        {
            "name": "Standard",
            "currency": "EUR",
            "energy_price_per_kwh": 39,
            "time_price_per_min": 2,
            "session_fee": 50,
            "idle_fee_per_min": 10,
            "idle_grace_min": 15,
            "is_default": True,
        },
        format="json",
    )
    assert plan.status_code == 201, plan.content
    created = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Harbour Hub",
            "address": "Hafenstraße 1, Berlin",
            "latitude": 52.52,
            "longitude": 13.405,
            "timezone": "Europe/Berlin",
            "chargers": [{"serial": "HH-DC-01", "max_power_kw": 150, "connectors": [{"number": 1, "type": "CCS2"}]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    station = created.json()
    charger = station["chargers"][0]
    issued = operator_client.post("/api/v1/auth/api-keys", {"name": "HH-DC-01 firmware"}, format="json")
    assert issued.status_code == 201, issued.content
    charger_client = APIClient()
    charger_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.json()['key']}")
    connector = charger["connectors"][0]
    network = Network(station=station, charger=charger, connector=connector, charger_client=charger_client)
    network.report_meter(120_000)
    return network
