import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, Location, StationCreated
from evcharge.events import publish


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def make_station():
    """Publishes station.created.v1 (as the stations context would): telemetry's read model learns it."""

    def make(operator, *, chargers: int = 1, connectors: int = 2) -> StationCreated:
        station = StationCreated(
            station_id=uuid.uuid4(),
            operator_id=operator.id,
            name=f"Station {uuid.uuid4().hex[:4]}",
            timezone="Europe/Berlin",
            location=Location(latitude=52.5, longitude=13.4, address="Somewhere 1"),
            chargers=[
                ChargerInfo(
                    charger_id=uuid.uuid4(),
                    serial=f"SN-{c}-{uuid.uuid4().hex[:6]}",
                    max_power_kw=150.0,
                    connectors=[
                        ConnectorInfo(
                            connector_id=uuid.uuid4(),
                            number=n + 1,
                            type="CCS2",
                            max_power_kw=150.0,
                            status="Available",
                            code=uuid.uuid4().hex[:8],
                        )
                        for n in range(connectors)
                    ],
                )
                for c in range(chargers)
            ],
        )
        with transaction.atomic():
            publish(station)
        return station

    return make


@pytest.fixture
def station(make_station, operator_org):
    return make_station(operator_org)


@pytest.fixture
def charger(station):
    return station.chargers[0]


def meter(charger, *, ts: datetime, energy_wh: int, connector=None, **extra) -> dict:
    connector = connector or charger.connectors[0]
    return {
        "charger_id": str(charger.charger_id),
        "connector_id": str(connector.connector_id),
        "ts": iso(ts),
        "kind": "meter",
        "energy_wh": energy_wh,
        **extra,
    }


def event(charger, kind: str, *, ts: datetime, **extra) -> dict:
    return {"charger_id": str(charger.charger_id), "ts": iso(ts), "kind": kind, **extra}


def recent(seconds: int = 0) -> datetime:
    return now_utc() - timedelta(seconds=seconds)
