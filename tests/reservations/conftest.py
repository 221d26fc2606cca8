"""Fixtures for the reservations context: its connector read model is fed with station events, as the
stations context would publish them, never through the stations app."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from evcharge.contracts import pricing, telemetry
from evcharge.contracts.adminconfig import StationConfigUpdated, StationSettings
from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, Location, StationCreated
from evcharge.contracts.telemetry import MeterReading
from evcharge.events import publish


def publish_in_transaction(event) -> None:
    with transaction.atomic():
        publish(event)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def minutes_from_now(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def window(start_in_minutes: float, length_minutes: float = 60) -> dict:
    starts_at = minutes_from_now(start_in_minutes)
    return {"starts_at": iso(starts_at), "ends_at": iso(starts_at + timedelta(minutes=length_minutes))}


@pytest.fixture(autouse=True)
def _no_pricing_or_telemetry(monkeypatch):
    """Whatever other contexts register, these tests start from 'no pricing, no telemetry' (the defaults)."""
    monkeypatch.setattr(pricing._slot, "_implementation", None)
    monkeypatch.setattr(telemetry._slot, "_implementation", None)


@pytest.fixture
def publish_station(operator_org):
    def make(
        *, operator=None, connectors=(("CCS2", "Available"),), name: str = "Harbour Hub", reservable: bool = True
    ) -> StationCreated:
        station = StationCreated(
            station_id=uuid.uuid4(),
            operator_id=(operator or operator_org).id,
            name=name,
            timezone="Europe/Berlin",
            location=Location(latitude=52.52, longitude=13.405, address="Hafenstraße 1, Berlin"),
            chargers=[
                ChargerInfo(
                    charger_id=uuid.uuid4(),
                    serial=f"SN-{uuid.uuid4().hex[:8]}",
                    max_power_kw=150.0,
                    connectors=[
                        ConnectorInfo(
                            connector_id=uuid.uuid4(),
                            number=number,
                            type=connector_type,
                            max_power_kw=150.0,
                            status=status,
                            code=uuid.uuid4().hex[:8].upper(),
                        )
                        for number, (connector_type, status) in enumerate(connectors, start=1)
                    ],
                )
            ],
            reservable=reservable,
        )
        publish_in_transaction(station)
        return station

    return make


@pytest.fixture
def station(publish_station) -> StationCreated:
    return publish_station(connectors=(("CCS2", "Available"), ("TYPE2", "Available")))


@pytest.fixture
def connector(station) -> ConnectorInfo:
    return station.chargers[0].connectors[0]


@pytest.fixture
def connector_id(connector) -> uuid.UUID:
    return connector.connector_id


@pytest.fixture
def set_station_settings():
    def apply(station: StationCreated, *, enabled: bool = True, reservable: bool = True) -> None:
        publish_in_transaction(
            StationConfigUpdated(
                station_id=station.station_id,
                operator_id=station.operator_id,
                settings=StationSettings(
                    enabled=enabled, reservable=reservable, max_power_kw=None, rate_plan_id=None, idle_grace_min=None
                ),
                changed=["enabled", "reservable"],
            )
        )

    return apply


class FakeTelemetry:
    def __init__(self):
        self.readings: dict[uuid.UUID, MeterReading] = {}

    def record(self, connector_id: uuid.UUID, energy_wh: int, *, ts: datetime | None = None) -> None:
        self.readings[connector_id] = MeterReading(
            connector_id=connector_id, energy_wh=energy_wh, ts=ts or datetime.now(UTC)
        )

    def last_meter_reading(self, *, connector_id):
        return self.readings.get(connector_id)


@pytest.fixture
def fake_telemetry(monkeypatch) -> FakeTelemetry:
    fake = FakeTelemetry()
    monkeypatch.setattr(telemetry._slot, "_implementation", fake)
    return fake


@pytest.fixture
def start_session():
    def start(client, connector_id, **body):
        return client.post("/api/v1/sessions", {"connector_id": str(connector_id), **body}, format="json")

    return start


@pytest.fixture
def reserve():
    def make(client, connector_id, start_in_minutes: float = 60, length_minutes: float = 60):
        return client.post(
            "/api/v1/reservations",
            {"connector_id": str(connector_id), **window(start_in_minutes, length_minutes)},
            format="json",
        )

    return make
