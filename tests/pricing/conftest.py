import uuid
from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.utils import timezone

from evcharge.actor import Actor
from evcharge.contracts.stations import (
    ChargerInfo,
    ConnectorInfo,
    Location,
    StationCreated,
    StationStatusChanged,
)
from evcharge.events import publish


class StationHandle:
    """A station as the stations context announced it (pricing learns it from the event only)."""

    def __init__(self, station_id, operator_id, charger_id, connectors):
        self.id = station_id
        self.operator_id = operator_id
        self.charger_id = charger_id
        self.connectors = connectors  # [(connector_id, type)]

    def connector_of(self, connector_type: str, index: int = 0):
        return [cid for cid, ctype in self.connectors if ctype == connector_type][index]

    def set_status(self, connector_type: str, status: str, index: int = 0, old_status: str = "Available"):
        with transaction.atomic():
            publish(
                StationStatusChanged(
                    station_id=self.id,
                    charger_id=self.charger_id,
                    connector_id=self.connector_of(connector_type, index),
                    connector_type=connector_type,
                    old_status=old_status,
                    new_status=status,
                    changed_at=timezone.now(),
                )
            )


@pytest.fixture
def announce_station():
    """announce_station(operator_id, ["CCS2", "TYPE2"]) publishes station.created.v1 and returns a handle."""

    def announce(operator_id, types=("CCS2", "TYPE2"), statuses=None, enabled=True) -> StationHandle:
        station_id, charger_id = uuid.uuid4(), uuid.uuid4()
        connectors = [(uuid.uuid4(), connector_type) for connector_type in types]
        statuses = statuses or ["Available"] * len(types)
        infos = [
            ConnectorInfo(
                connector_id=cid,
                number=number,
                type=ctype,
                max_power_kw=150.0,
                status=status,
                code=f"C{number}{cid.hex[:5]}",
            )
            for number, ((cid, ctype), status) in enumerate(zip(connectors, statuses, strict=True), start=1)
        ]
        with transaction.atomic():
            publish(
                StationCreated(
                    station_id=station_id,
                    operator_id=operator_id,
                    name=f"Station {station_id.hex[:6]}",
                    timezone="Europe/Berlin",
                    location=Location(latitude=52.5, longitude=13.4, address="Somewhere 1"),
                    chargers=[ChargerInfo(charger_id=charger_id, serial="SN-1", max_power_kw=150.0, connectors=infos)],
                    enabled=enabled,
                )
            )
        return StationHandle(station_id, operator_id, charger_id, connectors)

    return announce


@pytest.fixture
def make_plan():
    from apps.pricing import services

    def make(operator_id, **fields):
        values = {
            "name": f"Plan {uuid.uuid4().hex[:6]}",
            "currency": "EUR",
            "energy_price_per_kwh": 39,
            "time_price_per_min": 0,
            "session_fee": 0,
            "idle_fee_per_min": 0,
            "idle_grace_min": 0,
            "is_default": False,
        }
        values.update(fields)
        return services.rate_plan_create(by=Actor.system(), operator_id=operator_id, **values)

    return make


@pytest.fixture
def make_rule():
    from apps.pricing import services

    def make(plan, **fields):
        return services.rule_create(by=Actor.system(), rate_plan_id=plan.id, **fields)

    return make


@pytest.fixture
def make_promotion():
    from apps.pricing import services

    def make(operator_id, **fields):
        values = {
            "code": f"P{uuid.uuid4().hex[:8]}",
            "kind": "percent",
            "value": 10,
            "currency": "EUR",
            "valid_from": datetime(2020, 1, 1, tzinfo=UTC),
        }
        values.update(fields)
        return services.promotion_create(by=Actor.system(), operator_id=operator_id, **values)

    return make


def create_invoice(*, user_id, operator_id, total=10_000, currency="EUR", station_id=None, status="open"):
    """An invoice as billing holds it (pricing learns it only through billing's facade)."""
    from apps.billing.models import Invoice

    now = timezone.now()
    return Invoice.objects.create(
        session_id=uuid.uuid4(),
        user_id=user_id,
        operator_id=operator_id,
        station_id=station_id or uuid.uuid4(),
        connector_id=uuid.uuid4(),
        status=status,
        currency=currency,
        tariff={},
        started_at=now,
        subtotal_amount=total,
        total_amount=total,
        finalized_at=None if status == "draft" else now,
    )


@pytest.fixture
def make_invoice():
    return create_invoice
