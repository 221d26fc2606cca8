"""An ambiguous gateway answer is never a decline: a timeout leaves the payment pending (invoice unpaid,
promotion held) until reconciliation asks the gateway's status; a retry or a re-run never charges twice."""

import uuid
from datetime import timedelta

import pytest

from apps.billing import services
from apps.billing.gateways import TestGateway
from apps.billing.models import Payment
from apps.billing.selectors import ledger_cash_balance
from apps.pricing.models import Promotion, Redemption
from evcharge.actor import Actor

URL = "/api/v1/billing"


@pytest.fixture
def ten_percent(operator_org):
    from apps.pricing import services as pricing_services

    return pricing_services.promotion_create(
        by=Actor.system(), operator_id=operator_org.id, code="TEN", kind="percent", value=10, max_redemptions=1
    )


def reconcile() -> int:
    return services.payments_reconcile_pending(older_than=timedelta(0))


def test_a_timeout_that_hid_a_capture_stays_pending_then_reconcile_settles_it_with_one_charge(
    open_invoice, card, checkout, ten_percent, outbox, driver_client
):
    response = checkout(open_invoice.id, card("tok_timeout"), promotion_code="TEN")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["payment"]["status"] == "pending"
    assert (body["invoice"]["status"], body["invoice"]["total_amount"]) == ("open", 565)
    assert outbox("payment.failed.v1") == [] and outbox("payment.succeeded.v1") == []
    assert Promotion.objects.get(id=ten_percent.id).redemptions_count == 1  # held
    assert len(TestGateway.calls("charge")) == 1  # the gateway did capture

    assert reconcile() == 1
    payment = Payment.objects.get(id=body["payment"]["id"])
    open_invoice.refresh_from_db()
    assert (payment.status, open_invoice.status) == ("succeeded", "paid")
    assert len(TestGateway.calls("charge")) == 1
    assert ledger_cash_balance(open_invoice.id) == 565
    [succeeded] = outbox("payment.succeeded.v1")
    assert succeeded.data.amount == 565
    assert outbox("invoice.updated.v1")[-1].data.status == "paid"
    assert Redemption.objects.get(promotion=ten_percent).status == "active"
    assert reconcile() == 0


def test_a_timeout_before_any_capture_fails_at_reconcile_and_releases_the_code(
    open_invoice, card, checkout, ten_percent, outbox
):
    response = checkout(open_invoice.id, card("tok_timeout_lost"), promotion_code="TEN")
    assert response.status_code == 202
    assert response.json()["payment"]["status"] == "pending"
    assert outbox("payment.failed.v1") == []

    assert reconcile() == 1
    payment = Payment.objects.get(id=response.json()["payment"]["id"])
    open_invoice.refresh_from_db()
    assert payment.status == "failed" and payment.failure_reason.startswith("not_captured")
    assert (open_invoice.status, open_invoice.discount_amount, open_invoice.total_amount) == ("open", 0, 628)
    assert Promotion.objects.get(id=ten_percent.id).redemptions_count == 0
    assert TestGateway.calls("charge") == []
    assert len(outbox("payment.failed.v1")) == 1
    paid = checkout(open_invoice.id, card(), promotion_code="TEN")  # the use came back
    assert paid.json()["payment"]["status"] == "succeeded"


def test_a_retry_of_the_checkout_after_a_timeout_does_not_charge_again(open_invoice, card, checkout):
    timeout_card = card("tok_timeout")
    first = checkout(open_invoice.id, timeout_card, key="pay-once")
    again = checkout(open_invoice.id, timeout_card, key="pay-once")
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    other_key = checkout(open_invoice.id, card(), key="pay-twice")
    assert other_key.status_code == 409
    assert other_key.json()["code"] == "payment_in_progress"
    assert len(TestGateway.calls("charge")) == 1
    assert Payment.objects.filter(invoice=open_invoice).count() == 1


class Crash(Exception):
    pass


def test_a_worker_killed_between_the_capture_and_the_settle_then_a_retry_charges_once(
    open_invoice, card, driver, monkeypatch
):
    visa = uuid.UUID(card())
    by = Actor(user_id=driver.id, role="driver")
    settle = services._checkout_settle

    def crash(**kwargs):
        raise Crash("the worker died after the gateway captured")

    monkeypatch.setattr(services, "_checkout_settle", crash)
    with pytest.raises(Crash):
        services.invoice_checkout(
            invoice_id=open_invoice.id, payment_method_id=visa, promotion_code=None, by=by, request_key="k1"
        )
    [pending] = Payment.objects.filter(invoice=open_invoice)
    assert pending.status == "pending" and len(TestGateway.calls("charge")) == 1

    monkeypatch.setattr(services, "_checkout_settle", settle)
    invoice, payment = services.invoice_checkout(
        invoice_id=open_invoice.id, payment_method_id=visa, promotion_code=None, by=by, request_key="k1"
    )
    assert payment.id == pending.id
    assert (payment.status, invoice.status) == ("succeeded", "paid")
    assert len(TestGateway.calls("charge")) == 1
    assert ledger_cash_balance(open_invoice.id) == 628


def test_a_worker_killed_before_the_gateway_call_then_a_retry_charges_once(open_invoice, card, driver, monkeypatch):
    visa = uuid.UUID(card())
    by = Actor(user_id=driver.id, role="driver")
    charge = services._charge_and_settle

    def crash(**kwargs):
        raise Crash("the worker died before calling the gateway")

    monkeypatch.setattr(services, "_charge_and_settle", crash)
    with pytest.raises(Crash):
        services.invoice_checkout(
            invoice_id=open_invoice.id, payment_method_id=visa, promotion_code=None, by=by, request_key="k2"
        )
    assert TestGateway.calls() == []
    monkeypatch.setattr(services, "_charge_and_settle", charge)
    invoice, payment = services.invoice_checkout(
        invoice_id=open_invoice.id, payment_method_id=visa, promotion_code=None, by=by, request_key="k2"
    )
    assert (payment.status, invoice.status) == ("succeeded", "paid")
    assert len(TestGateway.calls("charge")) == 1
    assert Payment.objects.filter(invoice=open_invoice).count() == 1


def test_reconcile_of_a_charge_never_sent_fails_it_without_charging(open_invoice, card, driver):
    by = Actor(user_id=driver.id, role="driver")
    _, payment, _, _ = services._checkout_begin(
        invoice_id=open_invoice.id, payment_method_id=uuid.UUID(card()), promotion_code=None, by=by, request_key=None
    )
    assert reconcile() == 1
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert TestGateway.calls() == []


def test_the_test_gateway_answers_its_status_by_idempotency_key():
    gateway = TestGateway()
    assert gateway.payment_status(idempotency_key="nothing").status == "not_found"
    result = gateway.charge(token="tok_visa", amount=100, currency="EUR", idempotency_key="k")
    assert gateway.payment_status(idempotency_key="k") == result
    assert gateway.charge(token="tok_visa", amount=100, currency="EUR", idempotency_key="k") == result
    assert len(TestGateway.calls("charge")) == 1


def test_a_rerun_after_the_payment_was_settled_answers_that_payment(open_invoice, card, driver):
    """The worker died after settling, before the response was stored: the same request run again answers
    its payment's outcome instead of a 409 or a second charge."""
    visa = uuid.UUID(card())
    by = Actor(user_id=driver.id, role="driver")
    _, first = services.invoice_checkout(
        invoice_id=open_invoice.id, payment_method_id=visa, promotion_code=None, by=by, request_key="k3"
    )
    invoice, again = services.invoice_checkout(
        invoice_id=open_invoice.id, payment_method_id=visa, promotion_code=None, by=by, request_key="k3"
    )
    assert (again.id, again.status, invoice.status) == (first.id, "succeeded", "paid")
    assert len(TestGateway.calls("charge")) == 1


class RefundTimeoutGateway(TestGateway):
    """Refunds, then loses the answer the first time."""

    lost = set()

    def refund(self, **kwargs):
        result = super().refund(**kwargs)
        if kwargs["idempotency_key"] not in self.lost:
            self.lost.add(kwargs["idempotency_key"])
            raise TimeoutError("read timed out")
        return result


def test_a_refund_whose_answer_is_lost_is_a_502_and_a_retry_refunds_once(
    open_invoice, card, checkout, operator_client, settings
):
    checkout(open_invoice.id, card())
    settings.PAYMENT_GATEWAY = "tests.billing.test_gateway_outcomes.RefundTimeoutGateway"
    url = f"{URL}/invoices/{open_invoice.id}/status"
    lost = operator_client.post(url, {"status": "refunded", "reason": "broken"}, format="json")
    assert lost.status_code == 502
    assert lost["Content-Type"] == "application/problem+json"
    open_invoice.refresh_from_db()
    assert open_invoice.status == "paid"
    retried = operator_client.post(url, {"status": "refunded", "reason": "broken"}, format="json")
    assert retried.status_code == 200, retried.content
    assert len(TestGateway.calls("refund")) == 1
    assert ledger_cash_balance(open_invoice.id) == 0
