"""Reports follow the money: after each kind of change of an invoice's money (a checkout with a promotion, a line
added after generation, a line removed, a refund, a void) the reporting API's revenue and paid figures equal
billing's, through the events alone (billing's invoice.updated.v1)."""

import uuid

import pytest
from django.db import transaction

from apps.billing.models import Invoice, InvoiceStatus
from apps.billing.selectors import ledger_cash_balance
from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, Location, StationCreated
from evcharge.events import publish
from tests.billing.conftest import SessionSimulator

BILLING = "/api/v1/billing"
DAY = {"from": "2026-03-02", "to": "2026-03-02", "currency": "EUR"}  # the simulator's sessions start 03-02 08:00Z


@pytest.fixture
def station(operator_org):
    station_id, charger_id, connector_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        publish(
            StationCreated(
                station_id=station_id,
                operator_id=operator_org.id,
                name="Money Street",
                timezone="UTC",
                location=Location(latitude=52.5, longitude=13.4, address="Money Street 1"),
                chargers=[
                    ChargerInfo(
                        charger_id=charger_id,
                        serial="SN-M",
                        max_power_kw=150.0,
                        connectors=[
                            ConnectorInfo(
                                connector_id=connector_id,
                                number=1,
                                type="CCS2",
                                max_power_kw=150.0,
                                status="Available",
                                code="MONEY001",
                            )
                        ],
                    )
                ],
                enabled=True,
            )
        )
    return station_id, connector_id


@pytest.fixture
def new_invoice(driver, operator_org, station):
    simulator = SessionSimulator(driver.id, operator_org.id)
    station_id, connector_id = station

    def make() -> Invoice:
        started = simulator.started(station_id=station_id, connector_id=connector_id)
        simulator.publish(started)
        simulator.publish(simulator.completed(started))
        return Invoice.objects.get(session_id=started.session_id)

    return make


@pytest.fixture
def card(driver_client):
    def add(token: str = "tok_visa") -> str:
        response = driver_client.post(f"{BILLING}/payment-methods", {"kind": "card", "token": token}, format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    return add


@pytest.fixture
def checkout(driver_client):
    def pay(invoice_id, payment_method_id, *, promotion_code=None):
        body = {"payment_method_id": str(payment_method_id)}
        if promotion_code is not None:
            body["promotion_code"] = promotion_code
        return driver_client.post(
            f"{BILLING}/invoices/{invoice_id}/checkout", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )

    return pay


def billing_figures(station_id) -> tuple[int, int]:
    """(revenue, paid) as billing holds them: the totals of the station's invoices that are not void, and what
    the ledger says was captured net of refunds."""
    invoices = Invoice.objects.filter(station_id=station_id).exclude(status=InvoiceStatus.DRAFT)
    revenue = sum(invoice.total_amount for invoice in invoices if invoice.status != InvoiceStatus.VOID)
    paid = sum(ledger_cash_balance(invoice.id) for invoice in invoices)
    return revenue, paid


def report_figures(client, station_id) -> tuple[int, int]:
    response = client.get("/api/v1/reports/revenue", {**DAY, "station_id": str(station_id)})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    return sum(row["revenue_amount"] for row in rows), sum(row["paid_amount"] for row in rows)


def test_revenue_and_paid_figures_equal_billings_after_each_kind_of_change(
    station, new_invoice, operator_client, card, checkout
):
    station_id, _ = station

    def agree(expected: tuple[int, int]) -> None:
        assert billing_figures(station_id) == expected
        assert report_figures(operator_client, station_id) == expected

    promoted, edited, refunded, voided = (new_invoice() for _ in range(4))
    agree((4 * 628, 0))

    # a checkout with a 10 % promotion: 628 - 63
    promotion = operator_client.post(
        "/api/v1/pricing/promotions",
        {"code": "REPORT10", "kind": "percent", "value": 10, "valid_from": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert promotion.status_code == 201, promotion.content
    paid = checkout(promoted.id, card(), promotion_code="REPORT10")
    assert paid.json()["invoice"]["total_amount"] == 565
    agree((3 * 628 + 565, 565))

    # a line added after generation, then one removed
    added = operator_client.post(
        f"{BILLING}/invoices/{edited.id}/lines",
        {"kind": "product", "description": "Coffee", "quantity": 2, "unit_amount": 150},
        format="json",
    )
    assert added.status_code == 201, added.content
    agree((3 * 628 + 565 + 300, 565))
    energy_line = next(line["id"] for line in added.json()["lines"] if line["kind"] == "energy")
    assert operator_client.delete(f"{BILLING}/invoices/{edited.id}/lines/{energy_line}").status_code == 200
    agree((3 * 628 + 565 + 300 - 488, 565))

    # a refund
    assert checkout(refunded.id, card()).json()["payment"]["status"] == "succeeded"
    agree((3 * 628 + 565 + 300 - 488, 565 + 628))
    response = operator_client.post(
        f"{BILLING}/invoices/{refunded.id}/status", {"status": "refunded", "reason": "broken"}, format="json"
    )
    assert response.status_code == 200, response.content
    agree((3 * 628 + 565 + 300 - 488, 565))

    # a void
    response = operator_client.post(
        f"{BILLING}/invoices/{voided.id}/status", {"status": "void", "reason": "test"}, format="json"
    )
    assert response.status_code == 200, response.content
    agree((2 * 628 + 565 + 300 - 488, 565))
