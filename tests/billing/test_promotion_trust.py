"""Promotions cannot be forged: the discount at checkout is pricing's, from the invoice's real total, currency
and owner; a redemption is bound to its invoice, re-checked at checkout and released if it is not paid."""

import uuid

import pytest

from apps.billing.gateways import TestGateway
from apps.pricing.models import Promotion, Redemption

APPLY = "/api/v1/pricing/promotions/apply"


@pytest.fixture
def ten_percent(operator_org):
    from apps.pricing import services
    from evcharge.actor import Actor

    return services.promotion_create(
        by=Actor.system(), operator_id=operator_org.id, code="TEN", kind="percent", value=10, max_redemptions=5
    )


def in_force(promotion) -> int:
    return Promotion.objects.get(id=promotion.id).redemptions_count


def test_a_forged_amount_cannot_make_a_ten_percent_code_take_everything(
    open_invoice, ten_percent, driver_client, card, checkout, outbox
):
    forged = driver_client.post(
        APPLY, {"code": "TEN", "reference": str(open_invoice.id), "amount": 1_000_000_000}, format="json"
    )
    assert forged.status_code == 400
    assert "amount" in forged.json()["errors"]
    applied = driver_client.post(APPLY, {"code": "TEN", "reference": str(open_invoice.id)}, format="json")
    assert applied.status_code == 201, applied.content
    assert (applied.json()["amount"], applied.json()["discount_amount"]) == (628, 63)
    # What the old code kept from a client's `amount`: a redemption worth more than the invoice.
    Redemption.objects.filter(id=applied.json()["id"]).update(amount=1_000_000_000, discount_amount=100_000_000)

    paid = checkout(open_invoice.id, card())  # no code given: the one bound to the invoice, re-checked
    assert paid.status_code == 201, paid.content
    invoice = paid.json()["invoice"]
    assert (invoice["subtotal_amount"], invoice["discount_amount"], invoice["total_amount"]) == (628, 63, 565)
    assert invoice["status"] == "paid"
    assert [call.amount for call in TestGateway.calls("charge")] == [565]
    assert Redemption.objects.get(id=applied.json()["id"]).discount_amount == 63
    assert in_force(ten_percent) == 1
    assert outbox("payment.succeeded.v1")[0].data.discount_amount == 63


def test_the_discount_follows_the_invoice_total_changed_after_the_code_was_applied(
    open_invoice, ten_percent, driver_client, operator_client, card, checkout
):
    assert (
        driver_client.post(APPLY, {"code": "TEN", "reference": str(open_invoice.id)}, format="json").json()[
            "discount_amount"
        ]
        == 63
    )
    added = operator_client.post(
        f"/api/v1/billing/invoices/{open_invoice.id}/lines",
        {"kind": "product", "description": "Coffee", "quantity": 1, "unit_amount": 372},
        format="json",
    )
    assert added.status_code == 201, added.content
    paid = checkout(open_invoice.id, card(), promotion_code="ten")
    invoice = paid.json()["invoice"]
    assert (invoice["subtotal_amount"], invoice["discount_amount"], invoice["total_amount"]) == (1000, 100, 900)
    assert in_force(ten_percent) == 1


def test_a_code_applied_to_another_drivers_invoice_is_not_found(
    open_invoice, ten_percent, other_driver_client, driver_client, card, checkout
):
    response = other_driver_client.post(APPLY, {"code": "TEN", "reference": str(open_invoice.id)}, format="json")
    assert response.status_code == 404
    assert in_force(ten_percent) == 0
    paid = checkout(open_invoice.id, card())  # the owner pays in full: nothing was bound to their invoice
    assert paid.json()["invoice"]["total_amount"] == 628


def test_made_up_references_do_not_burn_the_code(ten_percent, driver_client):
    for reference in ("inv-1", str(uuid.uuid4()), str(uuid.uuid4())):
        assert driver_client.post(APPLY, {"code": "TEN", "reference": reference}, format="json").status_code in (
            400,
            404,
        )
    assert in_force(ten_percent) == 0
    assert not Redemption.objects.exists()


def test_a_voided_invoice_gives_the_use_back(open_invoice, ten_percent, driver_client, operator_client, outbox):
    applied = driver_client.post(APPLY, {"code": "TEN", "reference": str(open_invoice.id)}, format="json")
    assert applied.status_code == 201
    assert in_force(ten_percent) == 1
    voided = operator_client.post(
        f"/api/v1/billing/invoices/{open_invoice.id}/status", {"status": "void", "reason": "test"}, format="json"
    )
    assert voided.status_code == 200, voided.content
    assert in_force(ten_percent) == 0
    assert Redemption.objects.get(id=applied.json()["id"]).status == "released"


def test_a_bound_code_that_no_longer_applies_is_removed_and_nothing_is_charged(
    open_invoice, ten_percent, driver_client, card, checkout
):
    applied = driver_client.post(APPLY, {"code": "TEN", "reference": str(open_invoice.id)}, format="json")
    Promotion.objects.filter(id=ten_percent.id).update(active=False)  # switched off before the driver pays
    refused = checkout(open_invoice.id, card())
    assert refused.status_code == 422
    assert refused.json()["code"] == "promotion_refused"
    assert TestGateway.calls() == []
    assert Redemption.objects.get(id=applied.json()["id"]).status == "released"
    paid = checkout(open_invoice.id, card())
    assert paid.status_code == 201
    assert paid.json()["invoice"]["total_amount"] == 628


def test_a_paid_invoice_takes_no_code(open_invoice, ten_percent, driver_client, card, checkout):
    checkout(open_invoice.id, card())
    response = driver_client.post(APPLY, {"code": "TEN", "reference": str(open_invoice.id)}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invoice_not_open"
    assert in_force(ten_percent) == 0
