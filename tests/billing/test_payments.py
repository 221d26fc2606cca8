"""Payment methods, checkout through the gateway (with and without promotions), idempotency, races,
the ledger, and the events on the wire."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from apps.billing.gateways import TestGateway
from apps.billing.models import LedgerEntry, Payment
from apps.billing.selectors import ledger_cash_balance
from tests.helpers import run_concurrently

URL = "/api/v1/billing"


def promotion(client, **fields):
    """A promotion created through pricing's HTTP API, as staff would."""
    body = {
        "code": f"PROMO{uuid.uuid4().hex[:6].upper()}",
        "kind": "percent",
        "value": 10,
        "valid_from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "valid_to": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        **fields,
    }
    response = client.post("/api/v1/pricing/promotions", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def redemptions_in_force(client, promotion_id) -> int:
    return client.get(f"/api/v1/pricing/promotions/{promotion_id}").json()["redemptions_count"]


# --- payment methods ---


def test_payment_methods_add_list_delete(driver_client, other_driver_client, operator_client):
    response = driver_client.post(f"{URL}/payment-methods", {"kind": "card", "token": "tok_visa"}, format="json")
    assert response.status_code == 201, response.content
    method = response.json()
    assert (method["kind"], method["brand"], method["last4"]) == ("card", "visa", "4242")
    assert "token" not in method
    listed = driver_client.get(f"{URL}/payment-methods").json()
    assert [m["id"] for m in listed["results"]] == [method["id"]]
    assert other_driver_client.get(f"{URL}/payment-methods").json()["count"] == 0
    assert other_driver_client.delete(f"{URL}/payment-methods/{method['id']}").status_code == 404
    assert operator_client.get(f"{URL}/payment-methods").status_code == 403
    assert driver_client.delete(f"{URL}/payment-methods/{method['id']}").status_code == 204
    assert driver_client.get(f"{URL}/payment-methods").json()["count"] == 0
    assert driver_client.delete(f"{URL}/payment-methods/{method['id']}").status_code == 404


@pytest.mark.parametrize("body", [{"kind": "card", "token": "tok_unknown"}, {"kind": "iban", "token": "tok_visa"}, {}])
def test_bad_payment_methods_are_refused(driver_client, body):
    response = driver_client.post(f"{URL}/payment-methods", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


# --- checkout outcomes ---


def test_checkout_succeeds(open_invoice, card, checkout, driver_client, outbox):
    response = checkout(open_invoice.id, card("tok_visa"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payment"]["status"] == "succeeded"
    assert body["invoice"]["status"] == "paid"
    assert body["invoice"]["total_amount"] == 628
    assert [(c.operation, c.amount, c.currency) for c in TestGateway.calls()] == [("charge", 628, "EUR")]

    payment = driver_client.get(f"{URL}/payments/{body['payment']['id']}").json()
    assert (payment["status"], payment["amount"], payment["currency"], payment["invoice_id"]) == (
        "succeeded",
        628,
        "EUR",
        str(open_invoice.id),
    )
    assert payment["failure_reason"] is None

    legs = list(LedgerEntry.objects.filter(invoice=open_invoice).values_list("kind", "account", "amount"))
    assert sorted(legs) == [("charge", "gateway_cash", 628), ("charge", "sales", -628)]
    assert ledger_cash_balance(open_invoice.id) == 628

    [succeeded] = outbox("payment.succeeded.v1")
    assert succeeded.type == "payment.succeeded.v1" and succeeded.source == "/evcharge/billing"
    data = succeeded.data
    assert (data.invoice_id, data.amount, data.discount_amount, data.currency) == (open_invoice.id, 628, 0, "EUR")
    assert (data.session_id, data.user_id, data.station_id) == (
        open_invoice.session_id,
        open_invoice.user_id,
        open_invoice.station_id,
    )
    assert outbox("payment.failed.v1") == []


@pytest.mark.parametrize(("token", "reason"), [("tok_declined", "card_declined"), ("tok_error", "gateway_error")])
def test_checkout_fails_and_the_invoice_stays_open(open_invoice, card, checkout, outbox, token, reason):
    response = checkout(open_invoice.id, card(token))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payment"]["status"] == "failed"
    assert body["payment"]["failure_reason"].startswith(reason)
    assert body["invoice"]["status"] == "open"
    assert TestGateway.calls("charge") == [] or TestGateway.calls("charge")[0].result.status == "declined"
    assert not LedgerEntry.objects.exists()
    [failed] = outbox("payment.failed.v1")
    assert (failed.data.invoice_id, failed.data.amount) == (open_invoice.id, 628)
    assert failed.data.reason.startswith(reason)

    # another card pays it
    again = checkout(open_invoice.id, card("tok_visa"))
    assert again.json()["payment"]["status"] == "succeeded"
    assert ledger_cash_balance(open_invoice.id) == 628
    assert Payment.objects.filter(invoice=open_invoice).count() == 2


def test_checkout_refusals(sessions, open_invoice, card, checkout, driver_client, other_driver_client, invoice_of):
    def post_without_key(invoice_id, payment_method_id):
        return driver_client.post(
            f"{URL}/invoices/{invoice_id}/checkout", {"payment_method_id": str(payment_method_id)}, format="json"
        )

    visa = card()
    response = post_without_key(open_invoice.id, visa)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    # another driver's invoice is not found; another driver's card is no payment method of yours
    assert checkout(open_invoice.id, visa, client=other_driver_client).status_code == 404
    other_card = other_driver_client.post(f"{URL}/payment-methods", {"token": "tok_visa"}, format="json").json()["id"]
    assert checkout(open_invoice.id, other_card).status_code == 400
    assert checkout(uuid.uuid4(), visa).status_code == 404
    # a running session's invoice cannot be paid yet
    started = sessions.started()
    sessions.publish(started)
    assert checkout(invoice_of(started.session_id).id, visa).status_code == 409
    # paid once, then 409
    assert checkout(open_invoice.id, visa).status_code == 201
    assert checkout(open_invoice.id, visa).status_code == 409
    assert len(TestGateway.calls("charge")) == 1


# --- idempotency and races ---


def test_a_retry_with_the_same_key_returns_the_first_result_and_charges_once(open_invoice, card, checkout):
    visa = card()
    first = checkout(open_invoice.id, visa, key="retry-me")
    second = checkout(open_invoice.id, visa, key="retry-me")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert len(TestGateway.calls("charge")) == 1
    assert Payment.objects.count() == 1
    other_body = checkout(open_invoice.id, card("tok_declined"), key="retry-me")
    assert other_body.status_code == 409


class SlowTestGateway(TestGateway):
    """Holds every charge for a moment, so racing checkouts overlap."""

    def charge(self, **kwargs):
        time.sleep(0.3)
        return super().charge(**kwargs)


@pytest.mark.postgres
def test_racing_keys_on_one_invoice_make_one_payment(open_invoice, card, driver, client_for, settings):
    settings.PAYMENT_GATEWAY = "tests.billing.test_payments.SlowTestGateway"
    visa = card()

    def pay(index: int):
        client: APIClient = client_for(driver)
        response = client.post(
            f"{URL}/invoices/{open_invoice.id}/checkout",
            {"payment_method_id": visa},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"racer-{index}",
        )
        return response.status_code

    statuses = run_concurrently(pay, 4)
    assert sorted(statuses) == [201, 409, 409, 409], statuses
    assert Payment.objects.filter(invoice=open_invoice).count() == 1
    assert len(TestGateway.calls("charge")) == 1
    assert ledger_cash_balance(open_invoice.id) == 628


@pytest.mark.postgres
def test_the_database_allows_one_payment_in_flight_per_invoice(open_invoice):
    from django.db import IntegrityError, transaction

    Payment.objects.create(invoice=open_invoice, user_id=open_invoice.user_id, amount=1, currency="EUR")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(invoice=open_invoice, user_id=open_invoice.user_id, amount=1, currency="EUR")


# --- promotions ---


def test_checkout_with_a_promotion(open_invoice, card, checkout, operator_client, outbox):
    promo = promotion(operator_client, value=10)
    response = checkout(open_invoice.id, card(), promotion_code=promo["code"].lower())
    assert response.status_code == 201, response.content
    invoice = response.json()["invoice"]
    # 10 % of 628 = 62.8 -> 63
    assert (invoice["subtotal_amount"], invoice["discount_amount"], invoice["total_amount"]) == (628, 63, 565)
    [discount_line] = [line for line in invoice["lines"] if line["kind"] == "discount"]
    assert discount_line["amount"] == -63
    assert invoice["discounts"][0]["amount"] == 63
    assert [c.amount for c in TestGateway.calls("charge")] == [565]
    assert redemptions_in_force(operator_client, promo["id"]) == 1
    [succeeded] = outbox("payment.succeeded.v1")
    assert (succeeded.data.amount, succeeded.data.discount_amount) == (565, 63)
    assert ledger_cash_balance(open_invoice.id) == 565


def test_a_refused_promotion_charges_nothing(open_invoice, card, checkout, operator_client):
    response = checkout(open_invoice.id, card(), promotion_code="NOSUCHCODE")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "does not exist" in response.json()["detail"]
    assert TestGateway.calls() == []
    assert not Payment.objects.exists()
    open_invoice.refresh_from_db()
    assert (open_invoice.status, open_invoice.total_amount, open_invoice.lines.filter(kind="discount").count()) == (
        "open",
        628,
        0,
    )
    small = promotion(operator_client, min_amount=10_000, currency="EUR")
    assert checkout(open_invoice.id, card(), promotion_code=small["code"]).status_code == 422


def test_a_declined_card_releases_the_promotion(open_invoice, card, checkout, operator_client):
    promo = promotion(operator_client, max_redemptions=1)
    declined = checkout(open_invoice.id, card("tok_declined"), promotion_code=promo["code"])
    assert declined.json()["payment"]["status"] == "failed"
    invoice = declined.json()["invoice"]
    assert (invoice["discount_amount"], invoice["total_amount"], invoice["discounts"]) == (0, 628, [])
    assert redemptions_in_force(operator_client, promo["id"]) == 0
    # the use came back: the same single-use code pays with another card
    paid = checkout(open_invoice.id, card("tok_visa"), promotion_code=promo["code"])
    assert paid.json()["payment"]["status"] == "succeeded"
    assert paid.json()["invoice"]["total_amount"] == 565
    assert redemptions_in_force(operator_client, promo["id"]) == 1


def test_a_zero_total_is_paid_without_a_gateway_charge(open_invoice, card, checkout, operator_client, outbox):
    promo = promotion(operator_client, kind="fixed", value=1000, currency="EUR")
    response = checkout(open_invoice.id, card(), promotion_code=promo["code"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payment"]["status"] == "succeeded"
    assert (body["payment"]["amount"], body["invoice"]["total_amount"], body["invoice"]["status"]) == (0, 0, "paid")
    assert body["invoice"]["discount_amount"] == 628
    assert TestGateway.calls() == []
    assert ledger_cash_balance(open_invoice.id) == 0
    assert outbox("payment.succeeded.v1")[0].data.amount == 0


# --- payments and the ledger ---


def test_payment_visibility(
    open_invoice, card, checkout, other_driver_client, operator_client, other_operator_client, admin_client
):
    payment_id = checkout(open_invoice.id, card()).json()["payment"]["id"]
    assert other_driver_client.get(f"{URL}/payments/{payment_id}").status_code == 404
    assert other_operator_client.get(f"{URL}/payments/{payment_id}").status_code == 404
    assert operator_client.get(f"{URL}/payments/{payment_id}").status_code == 200
    assert admin_client.get(f"{URL}/payments/{payment_id}").status_code == 200
    detail = admin_client.get(f"{URL}/invoices/{open_invoice.id}").json()
    assert [p["id"] for p in detail["payments"]] == [payment_id]


def test_the_ledger_is_append_only(open_invoice, card, checkout):
    checkout(open_invoice.id, card())
    entry = LedgerEntry.objects.first()
    entry.amount = 1
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


@pytest.mark.postgres
def test_the_database_refuses_to_change_ledger_rows(open_invoice, card, checkout):
    from django.db import DatabaseError, transaction

    checkout(open_invoice.id, card())
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.update(amount=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.all()._raw_delete(LedgerEntry.objects.db)


def test_admin_pages(open_invoice, card, checkout, admin_user, client):
    checkout(open_invoice.id, card())
    client.force_login(admin_user)
    for page in (
        "/admin/billing/invoice/",
        f"/admin/billing/invoice/{open_invoice.id}/change/",
        "/admin/billing/payment/",
        "/admin/billing/ledgerentry/",
        "/admin/billing/paymentmethod/",
    ):
        assert client.get(page).status_code == 200, page


def test_a_payment_left_pending_by_a_crash_is_settled_without_a_second_charge(open_invoice, card, checkout, driver):
    from apps.billing import services
    from apps.billing.gateways import get_gateway
    from evcharge.actor import Actor

    visa = card()
    # The process died after the gateway charged the card, before recording the outcome.
    _, payment, token, _ = services._checkout_begin(
        invoice_id=open_invoice.id,
        payment_method_id=uuid.UUID(visa),
        promotion_code=None,
        by=Actor(user_id=driver.id, role="driver"),
        request_key=None,
    )
    get_gateway().charge(token=token, amount=payment.amount, currency="EUR", idempotency_key=str(payment.id))
    assert checkout(open_invoice.id, visa).status_code == 409  # a payment is in flight
    assert services.payments_reconcile_pending(older_than=timedelta(minutes=5)) == 0  # not stale yet
    assert services.payments_reconcile_pending(older_than=timedelta(0)) == 1
    payment.refresh_from_db()
    open_invoice.refresh_from_db()
    assert (payment.status, open_invoice.status) == ("succeeded", "paid")
    assert len(TestGateway.calls("charge")) == 1
    assert ledger_cash_balance(open_invoice.id) == 628
