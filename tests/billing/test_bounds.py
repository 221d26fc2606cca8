"""Every numeric input of billing is bounded (400 naming the field, never a 500); totals stay within MAX_AMOUNT."""

import pytest

from evcharge.money import MAX_AMOUNT

URL = "/api/v1/billing"
HUGE = 2**70


@pytest.mark.parametrize(
    "change",
    [
        {"unit_amount": HUGE},
        {"unit_amount": -HUGE},
        {"unit_amount": 2**63},
        {"unit_amount": MAX_AMOUNT + 1},
        {"quantity": HUGE},
        {"quantity": "1e70"},
        {"quantity": -1},
    ],
)
def test_invoice_line_numbers_are_bounded(open_invoice, operator_client, change):
    body = {"kind": "adjustment", "description": "x", "quantity": 1, "unit_amount": 100, **change}
    response = operator_client.post(f"{URL}/invoices/{open_invoice.id}/lines", body, format="json")
    assert response.status_code == 400, response.content
    assert set(change) <= set(response.json()["errors"])
    open_invoice.refresh_from_db()
    assert open_invoice.total_amount == 628


def test_a_line_whose_amount_would_pass_the_bound_is_refused(open_invoice, operator_client):
    body = {"kind": "product", "description": "x", "quantity": 1000, "unit_amount": MAX_AMOUNT}
    response = operator_client.post(f"{URL}/invoices/{open_invoice.id}/lines", body, format="json")
    assert response.status_code == 400
    assert "unit_amount" in response.json()["errors"]


def test_a_total_beyond_the_bound_is_refused(open_invoice, operator_client):
    body = {"kind": "product", "description": "x", "quantity": 1, "unit_amount": MAX_AMOUNT}
    response = operator_client.post(f"{URL}/invoices/{open_invoice.id}/lines", body, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "too_large"


@pytest.mark.parametrize("body", [{"payment_method_id": HUGE}, {"payment_method_id": "x", "promotion_code": HUGE}])
def test_checkout_input_is_validated(open_invoice, checkout, driver_client, body):
    response = driver_client.post(
        f"{URL}/invoices/{open_invoice.id}/checkout", body, format="json", HTTP_IDEMPOTENCY_KEY="bounds"
    )
    assert response.status_code == 400
