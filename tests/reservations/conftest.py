"""Fixtures for the reservations context: its connector read model is fed with station events, as the
stations context would publish them, never through the stations app."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from evcharge.contracts import pricing, telemetry
from evcharge.contracts.adminconfig import StationConfigUpdated, StationSettings
from evcharge.contracts.pricing import TariffSnapshot
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


TEST_TARIFF = TariffSnapshot(
    rate_plan_id=uuid.UUID("22222222-2222-4222-8222-222222222222"),
    currency="EUR",
    energy_price_per_kwh=39,
    time_price_per_min=0,
    session_fee=0,
    idle_fee_per_min=0,
    idle_grace_min=0,
)


class FakePricing:
    def __init__(self, tariff=TEST_TARIFF, error=None):
        self.tariff, self.error, self.calls = tariff, error, []

    def tariff_snapshot(self, *, station_id, connector_type, at):
        self.calls.append((station_id, connector_type))
        if self.error:
            raise self.error
        return self.tariff

    def running_cost(self, *, tariff, energy_wh, duration_s):
        from apps.pricing.facade import PricingFacadeImpl

        return PricingFacadeImpl().running_cost(tariff=tariff, energy_wh=energy_wh, duration_s=duration_s)


@pytest.fixture(autouse=True)
def fake_pricing(monkeypatch) -> FakePricing:
    """Whatever other contexts register, these tests start from 'pricing knows one tariff, no telemetry'."""
    fake = FakePricing()
    monkeypatch.setattr(pricing._slot, "_implementation", fake)
    monkeypatch.setattr(telemetry._slot, "_implementation", None)
    return fake


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
    """The charger's meter readings as the telemetry facade would answer them."""

    def __init__(self):
        self.history: dict[uuid.UUID, list[MeterReading]] = {}

    @property
    def readings(self) -> dict[uuid.UUID, MeterReading]:
        return {connector_id: readings[-1] for connector_id, readings in self.history.items() if readings}

    def record(self, connector_id: uuid.UUID, energy_wh: int, *, ts: datetime | None = None) -> MeterReading:
        reading = MeterReading(connector_id=connector_id, energy_wh=energy_wh, ts=ts or datetime.now(UTC))
        self.history.setdefault(connector_id, []).append(reading)
        self.history[connector_id].sort(key=lambda r: r.ts)
        return reading

    def last_meter_reading(self, *, connector_id):
        return self.readings.get(connector_id)

    def first_meter_reading(self, *, connector_id, since):
        return next((r for r in self.history.get(connector_id, []) if r.ts >= since), None)


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


def backdate(session_id, *, minutes: float) -> None:
    """Time passes: the session started `minutes` earlier than it did."""
    from apps.reservations.models import ChargingSession

    ChargingSession.objects.filter(id=session_id).update(started_at=datetime.now(UTC) - timedelta(minutes=minutes))


@pytest.fixture
def charger_client(client_for, api_key_for, operator_org):
    """The station's charger: its operator's API key."""
    return client_for(api_key=api_key_for(operator_org))
