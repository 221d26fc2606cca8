"""Billing test helpers: simulated sessions (published like the reservations context would),
open invoices, cards, and a fresh test gateway per test."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from evcharge.contracts.pricing import TariffSnapshot
from evcharge.contracts.reservations import SessionCompleted, SessionStarted

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TARIFF = TariffSnapshot(
    rate_plan_id=None,
    currency="EUR",
    energy_price_per_kwh=39,
    time_price_per_min=2,
    session_fee=50,
    idle_fee_per_min=10,
    idle_grace_min=10,
)


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    from apps.billing.gateways import TestGateway

    TestGateway.reset()
    yield
    TestGateway.reset()


class SessionSimulator:
    """Publishes session.started.v1 / session.completed.v1 as the reservations context does."""

    def __init__(self, user_id, operator_id):
        self.user_id = user_id
        self.operator_id = operator_id

    def started(self, *, session_id=None, user_id=None, operator_id=None, tariff=TARIFF, started_at=T0, **extra):
        return SessionStarted(
            session_id=session_id or uuid.uuid4(),
            connector_id=extra.get("connector_id", uuid.uuid4()),
            station_id=extra.get("station_id", uuid.uuid4()),
            user_id=user_id or self.user_id,
            operator_id=operator_id or self.operator_id,
            connector_type="CCS2",
            reservation_id=None,
            meter_start_wh=1000,
            started_at=started_at,
            tariff=tariff,
        )

    def completed(
        self,
        started: SessionStarted,
        *,
        energy_wh=12_500,
        duration=timedelta(minutes=45),
        idle=timedelta(0),
        charging_ended_at="auto",
        tariff=None,
    ):
        ended_at = started.started_at + duration
        return SessionCompleted(
            session_id=started.session_id,
            connector_id=started.connector_id,
            station_id=started.station_id,
            user_id=started.user_id,
            operator_id=started.operator_id,
            connector_type=started.connector_type,
            reservation_id=started.reservation_id,
            meter_start_wh=started.meter_start_wh,
            meter_stop_wh=started.meter_start_wh + energy_wh,
            energy_wh=energy_wh,
            started_at=started.started_at,
            ended_at=ended_at,
            charging_ended_at=(ended_at - idle) if charging_ended_at == "auto" else charging_ended_at,
            tariff=tariff or started.tariff,
        )

    @staticmethod
    def publish(*events):
        from evcharge.events import publish

        with transaction.atomic():
            for event in events:
                publish(event)

    def run(self, **completed_options):
        """A whole session: started then completed; returns the completed event."""
        started = self.started()
        self.publish(started)
        completed = self.completed(started, **completed_options)
        self.publish(completed)
        return completed


@pytest.fixture
def sessions(driver, operator_org):
    return SessionSimulator(driver.id, operator_org.id)


def tariff(**changes) -> TariffSnapshot:
    return replace(TARIFF, **changes)


@pytest.fixture
def invoice_of():
    from apps.billing.models import Invoice

    return lambda session_id: Invoice.objects.get(session_id=session_id)


@pytest.fixture
def open_invoice(sessions, invoice_of):
    """An open invoice of `driver` at `operator_org`: 12.5 kWh, 45 min, session fee; total 628."""
    completed = sessions.run()
    return invoice_of(completed.session_id)


@pytest.fixture
def card(driver_client):
    def add(token: str = "tok_visa") -> str:
        response = driver_client.post(
            "/api/v1/billing/payment-methods", {"kind": "card", "token": token}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    return add


@pytest.fixture
def checkout(driver_client):
    def pay(invoice_id, payment_method_id, *, key=None, promotion_code=None, client=None):
        body = {"payment_method_id": str(payment_method_id)}
        if promotion_code is not None:
            body["promotion_code"] = promotion_code
        return (client or driver_client).post(
            f"/api/v1/billing/invoices/{invoice_id}/checkout",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
        )

    return pay
