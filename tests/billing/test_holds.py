"""Card pre-authorisations of ad-hoc sessions (billing's hold facade): a real `authorize` of billing's configured
amount, captured at the invoice's total when the session's invoice is generated (the rest released; a total
above the hold charged to the same card; nothing to pay → released), voided when it pays for nothing, swept
when never used. Against PostgreSQL; the events flow inline here, over RabbitMQ in test_holds_rabbitmq.py."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.billing import services
from apps.billing.gateways import GatewayError, GatewayTimeout, TestGateway
from apps.billing.models import Invoice, Payment, PaymentHold
from apps.billing.selectors import ledger_cash_balance
from apps.pricing.models import Promotion, Redemption
from evcharge.actor import Actor
from evcharge.contracts import billing
from evcharge.contracts.billing import GatewayUnavailable, PaymentDeclined
from evcharge.errors import Conflict, InvalidInput, NotFound
from tests.billing.conftest import tariff

URL = "/api/v1/billing"
TOTAL = 628  # the default simulated session: 12.5 kWh, 45 min, session fee


def authorize(token: str = "tok_visa", *, key: str | None = None, currency: str = "EUR"):
    return billing.facade().hold_authorize(card_token=token, currency=currency, idempotency_key=key or uuid.uuid4().hex)


@pytest.fixture
def ad_hoc(sessions):
    """ad_hoc(hold, promotion_code="", **completed_options): starts a session paid by the hold (attached in the
    start's transaction, as the web start does), then completes it; returns the completed event."""

    def run(hold, *, promotion_code: str = "", complete: bool = True, **completed_options):
        started = sessions.started()
        with transaction.atomic():
            billing.facade().hold_attach(
                hold_id=hold.hold_id,
                session_id=started.session_id,
                user_id=started.user_id,
                promotion_code=promotion_code,
            )
            sessions.publish(started)
        if not complete:
            return started
        completed = sessions.completed(started, **completed_options)
        sessions.publish(completed)
        return completed

    return run


@pytest.fixture
def hold_amount(admin_client):
    def set_amount(value) -> None:
        response = admin_client.put("/api/v1/admin/config/billing.adhoc_hold_amount", {"value": value}, format="json")
        assert response.status_code == 200, response.content

    return set_amount


@pytest.fixture
def ten_percent(operator_org):
    from apps.pricing import services as pricing_services

    return pricing_services.promotion_create(
        by=Actor.system(), operator_id=operator_org.id, code="TEN", kind="percent", value=10, max_redemptions=5
    )


def row(hold) -> PaymentHold:
    return PaymentHold.objects.get(id=hold.hold_id)


# --- authorize ------------------------------------------------------------------------------------


def test_a_hold_authorizes_billings_configured_amount_through_the_gateway():
    hold = authorize()
    assert (hold.status, hold.amount, hold.captured_amount, hold.currency) == ("authorized", 5000, 0, "EUR")
    assert hold.card_label == "Visa ending 4242"
    [call] = TestGateway.calls("authorize")
    assert (call.amount, call.currency, call.result.status) == (5000, "EUR", "succeeded")
    stored = row(hold)
    assert stored.authorization_reference == call.result.reference
    assert (stored.card_token, stored.card_last4) == ("tok_visa", "4242")  # the gateway's token, no card data


def test_the_amount_held_is_the_admin_config_value_and_a_bad_value_is_refused(hold_amount, admin_client):
    hold_amount(2000)
    assert authorize().amount == 2000
    assert TestGateway.calls("authorize")[-1].amount == 2000
    for bad in (0, -5, "5000", 12.5, None):
        response = admin_client.put("/api/v1/admin/config/billing.adhoc_hold_amount", {"value": bad}, format="json")
        assert response.status_code == 400, bad
    assert authorize().amount == 2000


def test_a_declined_card_holds_nothing_and_says_why():
    with pytest.raises(PaymentDeclined) as declined:
        authorize("tok_declined", key="guest-1")
    assert (declined.value.status, declined.value.code, declined.value.reason) == (
        422,
        "card_declined",
        "card_declined",
    )
    hold = PaymentHold.objects.get(idempotency_key="guest-1")
    assert (hold.status, hold.failure_reason, hold.authorization_reference) == ("declined", "card_declined", "")
    with pytest.raises(PaymentDeclined):  # the same key again: the same answer, the gateway is not asked again
        authorize("tok_declined", key="guest-1")
    assert len(TestGateway.received("authorize")) == 1


def test_an_unknown_token_is_invalid_input_and_nothing_is_recorded():
    with pytest.raises(InvalidInput) as invalid:
        authorize("4242424242424242")
    assert "card_token" in invalid.value.errors
    assert not PaymentHold.objects.exists() and TestGateway.received() == []


def test_a_gateway_error_is_unavailable_and_a_retry_with_the_same_key_tries_again():
    with pytest.raises(GatewayUnavailable) as unavailable:
        authorize("tok_error", key="k-error")
    assert unavailable.value.status == 502
    hold = PaymentHold.objects.get(idempotency_key="k-error")
    assert hold.status == "failed" and hold.failure_reason.startswith("gateway_error")
    with pytest.raises(GatewayUnavailable):
        authorize("tok_error", key="k-error")
    assert len(TestGateway.received("authorize")) == 2  # a fresh attempt: nothing had been held
    assert PaymentHold.objects.filter(idempotency_key="k-error").count() == 1


def test_the_same_idempotency_key_gives_the_same_hold_and_one_authorization():
    first = authorize(key="same")
    again = authorize(key="same")
    assert first.hold_id == again.hold_id
    assert len(TestGateway.received("authorize")) == 1
    with pytest.raises(Conflict):
        authorize("tok_declined", key="same")


def test_authorize_refuses_to_run_inside_a_transaction():
    with pytest.raises(services.HoldInTransaction), transaction.atomic():
        authorize()
    assert TestGateway.received() == []


def test_an_unanswered_authorization_is_learned_by_the_sweep_then_released_when_unused():
    with pytest.raises(GatewayUnavailable):
        authorize("tok_timeout", key="lost")  # the gateway held the amount, its answer was lost
    hold = PaymentHold.objects.get(idempotency_key="lost")
    assert hold.status == "pending"
    PaymentHold.objects.filter(id=hold.id).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert services.holds_sweep(unused_after=timedelta(minutes=30)) == 1
    hold.refresh_from_db()
    assert hold.status == "authorized" and hold.authorization_reference
    assert len(TestGateway.calls("authorize")) == 1  # asked again with the same key: held once
    PaymentHold.objects.filter(id=hold.id).update(created_at=timezone.now() - timedelta(minutes=31))
    services.holds_sweep(unused_after=timedelta(minutes=30))
    hold.refresh_from_db()
    assert hold.status == "voided"
    assert TestGateway.calls("void")[0].released == 5000


# --- capture at the invoice's total ---------------------------------------------------------------


def test_the_invoice_total_is_captured_and_the_rest_released(ad_hoc, invoice_of, outbox):
    hold = authorize()
    completed = ad_hoc(hold)
    invoice = invoice_of(completed.session_id)
    assert (invoice.status, invoice.total_amount, invoice.hold_amount) == ("paid", TOTAL, 5000)
    [capture] = TestGateway.calls("capture")
    assert (capture.amount, capture.released, capture.result.status) == (TOTAL, 5000 - TOTAL, "succeeded")
    assert TestGateway.calls("charge") == [] and TestGateway.calls("void") == []
    stored = row(hold)
    assert (stored.status, stored.captured_amount, stored.released_amount) == ("partially_captured", TOTAL, 4372)
    [payment] = Payment.objects.filter(invoice=invoice)
    assert (payment.kind, payment.status, payment.amount) == ("hold_capture", "succeeded", TOTAL)
    assert payment.gateway_reference == capture.result.reference and stored.payment_id == payment.id
    assert ledger_cash_balance(invoice.id) == TOTAL
    [succeeded] = outbox("payment.succeeded.v1")
    assert (succeeded.data.amount, succeeded.data.invoice_id) == (TOTAL, invoice.id)
    updated = outbox("invoice.updated.v1")[-1].data
    assert (updated.status, updated.paid_amount, updated.total_amount) == ("paid", TOTAL, TOTAL)


def test_the_promotion_given_at_start_is_applied_at_capture(ad_hoc, invoice_of, ten_percent):
    hold = authorize()
    invoice = invoice_of(ad_hoc(hold, promotion_code="TEN").session_id)
    assert (invoice.status, invoice.discount_amount, invoice.total_amount) == ("paid", 63, 565)
    assert TestGateway.calls("capture")[0].amount == 565
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.promotion_code, payment.discount_amount) == ("TEN", 63)
    assert Redemption.objects.get(promotion=ten_percent).reference == str(invoice.id)
    receipt = billing.facade().session_receipt(invoice.session_id)
    assert (receipt.promotion_code, receipt.discount_amount, receipt.total_amount) == ("TEN", 63, 565)
    assert [line.kind for line in receipt.lines][-1] == "discount"


def test_an_invalid_promotion_code_is_skipped_not_an_error(ad_hoc, invoice_of, ten_percent):
    Promotion.objects.filter(id=ten_percent.id).update(valid_to=timezone.now() - timedelta(days=1))
    hold = authorize()
    invoice = invoice_of(ad_hoc(hold, promotion_code="TEN").session_id)
    assert (invoice.status, invoice.discount_amount, invoice.total_amount) == ("paid", 0, TOTAL)
    assert TestGateway.calls("capture")[0].amount == TOTAL
    assert row(hold).promotion_refusal
    unknown = authorize()
    other = invoice_of(ad_hoc(unknown, promotion_code="NO-SUCH-CODE").session_id)
    assert (other.status, other.total_amount) == ("paid", TOTAL)


def test_a_total_above_the_hold_captures_it_all_and_charges_the_rest_to_the_same_card(
    ad_hoc, invoice_of, hold_amount, outbox
):
    hold_amount(500)
    hold = authorize()
    invoice = invoice_of(ad_hoc(hold).session_id)
    assert (invoice.status, invoice.total_amount) == ("paid", TOTAL)
    [capture] = TestGateway.calls("capture")
    [charge] = TestGateway.calls("charge")
    assert (capture.amount, capture.released, charge.amount) == (500, 0, TOTAL - 500)
    assert (row(hold).status, row(hold).captured_amount) == ("captured", 500)
    payments = {payment.kind: payment for payment in Payment.objects.filter(invoice=invoice)}
    assert (payments["hold_capture"].amount, payments["charge"].amount) == (500, 128)
    assert {payment.status for payment in payments.values()} == {"succeeded"}
    assert ledger_cash_balance(invoice.id) == TOTAL
    assert sorted(event.data.amount for event in outbox("payment.succeeded.v1")) == [128, 500]
    updates = [event.data for event in outbox("invoice.updated.v1")]
    assert [(u.status, u.paid_amount) for u in updates[-2:]] == [("open", 500), ("paid", TOTAL)]
    assert billing.facade().session_receipt(invoice.session_id).payment_status == "captured"


def test_a_rest_the_card_declines_leaves_the_invoice_open_with_the_hold_captured(
    ad_hoc, invoice_of, hold_amount, outbox
):
    hold_amount(500)
    hold = authorize()
    TestGateway.fail_next("charge", GatewayError("the gateway is down"))
    invoice = invoice_of(ad_hoc(hold).session_id)
    assert invoice.status == "open" and ledger_cash_balance(invoice.id) == 500
    stored = row(hold)
    assert stored.status == "captured" and stored.failure_reason.startswith("the rest (128) was not charged")
    assert len(outbox("payment.failed.v1")) == 1
    assert services.holds_sweep(unused_after=timedelta(minutes=30)) == 0  # not retried by the sweep
    assert TestGateway.calls("charge") == []
    assert billing.facade().session_receipt(invoice.session_id).paid_amount == 500


def test_a_refund_of_an_invoice_paid_by_a_hold_and_a_charge_gives_back_both(
    ad_hoc, invoice_of, hold_amount, operator_client
):
    hold_amount(500)
    invoice = invoice_of(ad_hoc(authorize()).session_id)
    response = operator_client.post(
        f"{URL}/invoices/{invoice.id}/status", {"status": "refunded", "reason": "charger fault"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert sorted(call.amount for call in TestGateway.calls("refund")) == [128, 500]
    assert ledger_cash_balance(invoice.id) == 0
    assert set(Payment.objects.filter(invoice=invoice).values_list("status", flat=True)) == {"refunded"}


def test_nothing_to_pay_releases_the_whole_hold(ad_hoc, invoice_of, outbox):
    hold = authorize()
    free = tariff(session_fee=0, time_price_per_min=0, energy_price_per_kwh=39)
    completed = ad_hoc(hold, energy_wh=0, tariff=free)
    invoice = invoice_of(completed.session_id)
    assert (invoice.status, invoice.total_amount) == ("paid", 0)
    assert TestGateway.calls("capture") == []
    [void] = TestGateway.calls("void")
    assert void.released == 5000
    assert (row(hold).status, row(hold).released_amount) == ("voided", 5000)
    [payment] = Payment.objects.filter(invoice=invoice)
    assert (payment.amount, payment.status) == (0, "succeeded")
    assert billing.facade().session_receipt(completed.session_id).payment_status == "voided"


def test_the_session_completed_twice_and_a_finalize_capture_once(ad_hoc, sessions, invoice_of, operator_client, outbox):
    hold = authorize()
    completed = ad_hoc(hold)
    sessions.publish(completed)  # a second copy of the event (another id: the inbox cannot tell)
    response = operator_client.post(f"{URL}/invoices/{completed.session_id}/finalize")
    assert response.status_code == 200
    assert services.hold_settle(hold_id=hold.hold_id).status == "partially_captured"
    assert len(TestGateway.received("capture")) == 1
    assert Payment.objects.filter(invoice=invoice_of(completed.session_id)).count() == 1
    assert len(outbox("payment.succeeded.v1")) == 1


def test_two_workers_settling_one_hold_capture_once(ad_hoc, invoice_of, monkeypatch):
    from apps.billing.services import holds

    monkeypatch.setattr(holds, "_dispatch_settle", lambda hold_id: None)  # the task is late: workers race
    slow_capture = TestGateway.capture

    def capture(self, **kwargs):
        time.sleep(0.2)
        return slow_capture(self, **kwargs)

    monkeypatch.setattr(TestGateway, "capture", capture)
    hold = authorize()
    completed = ad_hoc(hold)
    assert row(hold).status == "capturing"
    barrier = threading.Barrier(2)
    results = []

    def settle():
        from django.db import connection

        try:
            barrier.wait()
            results.append(services.hold_settle(hold_id=hold.hold_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert len(TestGateway.received("capture")) == 1
    invoice = invoice_of(completed.session_id)
    assert invoice.status == "paid" and ledger_cash_balance(invoice.id) == TOTAL
    assert Payment.objects.filter(invoice=invoice, status="succeeded").count() == 1


def test_a_capture_without_an_answer_stays_capturing_and_the_sweep_settles_it_once(ad_hoc, invoice_of):
    TestGateway.fail_next("capture", GatewayTimeout("no answer"))
    hold = authorize()
    invoice = invoice_of(ad_hoc(hold).session_id)
    assert (invoice.status, row(hold).status) == ("open", "capturing")
    assert Payment.objects.get(invoice=invoice).status == "pending"
    assert services.holds_sweep(unused_after=timedelta(minutes=30)) == 1
    invoice.refresh_from_db()
    assert (invoice.status, row(hold).status) == ("paid", "partially_captured")
    assert len(TestGateway.calls("capture")) == 1


def test_a_capture_the_gateway_refuses_fails_the_payment_and_gives_the_promotion_back(
    ad_hoc, invoice_of, ten_percent, outbox
):
    hold = authorize()
    TestGateway._authorizations[row(hold).authorization_reference].state = "voided"  # expired at the bank
    invoice = invoice_of(ad_hoc(hold, promotion_code="TEN").session_id)
    assert invoice.status == "open" and (invoice.discount_amount, invoice.total_amount) == (0, TOTAL)
    stored = row(hold)
    assert stored.status == "failed" and "authorization_voided" in stored.failure_reason
    assert Payment.objects.get(invoice=invoice).status == "failed"
    assert Promotion.objects.get(id=ten_percent.id).redemptions_count == 0
    assert len(outbox("payment.failed.v1")) == 1
    assert billing.facade().session_receipt(invoice.session_id).payment_status == "failed"


# --- attach and void ------------------------------------------------------------------------------


def test_attach_takes_only_an_authorized_hold_for_one_session(ad_hoc, sessions):
    hold = authorize()
    started = ad_hoc(hold, complete=False)
    facade = billing.facade()
    facade.hold_attach(hold_id=hold.hold_id, session_id=started.session_id, user_id=started.user_id)  # again: no-op
    with pytest.raises(Conflict) as in_use:
        facade.hold_attach(hold_id=hold.hold_id, session_id=uuid.uuid4(), user_id=started.user_id)
    assert in_use.value.code == "hold_in_use"
    with pytest.raises(Conflict) as has_hold:
        facade.hold_attach(hold_id=authorize().hold_id, session_id=started.session_id, user_id=started.user_id)
    assert has_hold.value.code == "session_has_hold"
    with pytest.raises(PaymentDeclined):
        authorize("tok_declined", key="declined")
    declined = PaymentHold.objects.get(idempotency_key="declined")
    with pytest.raises(Conflict) as not_authorized:
        facade.hold_attach(hold_id=declined.id, session_id=uuid.uuid4(), user_id=started.user_id)
    assert not_authorized.value.code == "hold_not_authorized"
    with pytest.raises(NotFound):
        facade.hold_attach(hold_id=uuid.uuid4(), session_id=uuid.uuid4(), user_id=started.user_id)
    assert row(hold).operator_id == started.operator_id  # learned from session.started.v1


def test_void_releases_the_hold_once_and_leaves_a_captured_one_alone(ad_hoc):
    hold = authorize()
    billing.facade().hold_void(hold_id=hold.hold_id, reason="the charger refused the start")
    billing.facade().hold_void(hold_id=hold.hold_id, reason="again")
    stored = row(hold)
    assert (stored.status, stored.void_reason) == ("voided", "the charger refused the start")
    assert len(TestGateway.received("void")) == 1
    captured = authorize()
    ad_hoc(captured)
    billing.facade().hold_void(hold_id=captured.hold_id, reason="too late")
    assert row(captured).status == "partially_captured" and len(TestGateway.received("void")) == 1
    with pytest.raises(NotFound):
        billing.facade().hold_void(hold_id=uuid.uuid4(), reason="x")


def test_a_void_in_a_rolled_back_transaction_releases_nothing():
    hold = authorize()
    with pytest.raises(RuntimeError), transaction.atomic():
        billing.facade().hold_void(hold_id=hold.hold_id, reason="start failed")
        raise RuntimeError("the caller's start failed after all")
    assert row(hold).status == "authorized" and TestGateway.received("void") == []


def test_voiding_the_invoice_of_a_running_session_releases_its_hold(ad_hoc, invoice_of, operator_client):
    hold = authorize()
    started = ad_hoc(hold, complete=False)
    invoice = invoice_of(started.session_id)
    assert invoice.status == "draft"
    response = operator_client.post(
        f"{URL}/invoices/{invoice.id}/status", {"status": "void", "reason": "test session"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert row(hold).status == "voided" and TestGateway.calls("void")[0].released == 5000


def test_the_sweep_releases_holds_never_used_and_keeps_the_others(ad_hoc):
    never_attached = authorize()
    start_failed = authorize()
    billing.facade().hold_attach(hold_id=start_failed.hold_id, session_id=uuid.uuid4(), user_id=uuid.uuid4())
    fresh = authorize()
    running = authorize()
    ad_hoc(running, complete=False)
    long_ago = timezone.now() - timedelta(minutes=31)
    PaymentHold.objects.exclude(id=fresh.hold_id).update(created_at=long_ago, attached_at=long_ago)

    assert services.holds_sweep(unused_after=timedelta(minutes=30)) == 2
    assert (row(never_attached).status, row(start_failed).status) == ("voided", "voided")
    assert row(never_attached).void_reason == "unused: never attached to a session within 0:30:00"
    assert row(start_failed).void_reason.startswith("unused: its session never started")
    assert (row(fresh).status, row(running).status) == ("authorized", "authorized")
    assert services.holds_sweep(unused_after=timedelta(minutes=30)) == 0
    assert len(TestGateway.calls("void")) == 2


def test_a_hold_cannot_pay_a_session_already_paid_and_one_left_over_is_released(
    open_invoice, card, checkout, sessions, ad_hoc, invoice_of
):
    assert checkout(open_invoice.id, card()).status_code == 201
    with pytest.raises(Conflict) as billed:
        billing.facade().hold_attach(
            hold_id=authorize().hold_id, session_id=open_invoice.session_id, user_id=open_invoice.user_id
        )
    assert billed.value.code == "session_already_billed"

    hold = authorize()  # attached to a running session that is then paid by a checkout, not by the hold
    started = ad_hoc(hold, complete=False)
    Invoice.objects.filter(session_id=started.session_id).update(status="paid")
    assert services.holds_sweep(unused_after=timedelta(minutes=30)) == 1
    assert (row(hold).status, row(hold).void_reason) == ("voided", "unused: its session's invoice is paid")


def test_a_capture_a_checkouts_payment_was_in_the_way_of_is_begun_by_the_sweep(sessions, ad_hoc, invoice_of):
    hold = authorize()
    started = ad_hoc(hold, complete=False)
    invoice = invoice_of(started.session_id)
    in_flight = Payment.objects.create(invoice=invoice, user_id=invoice.user_id, amount=TOTAL, currency="EUR")
    sessions.publish(sessions.completed(started))
    assert row(hold).status == "authorized" and TestGateway.calls("capture") == []
    Payment.objects.filter(id=in_flight.id).update(status="failed")  # the checkout was declined
    Invoice.objects.filter(id=invoice.id).update(finalized_at=timezone.now() - timedelta(minutes=5))
    assert services.holds_sweep(unused_after=timedelta(minutes=30)) == 1
    assert invoice_of(started.session_id).status == "paid"
    assert (row(hold).status, TestGateway.calls("capture")[0].amount) == ("partially_captured", TOTAL)


def test_the_sweep_runs_on_beat():
    from evcharge.celery import app

    entry = app.conf.beat_schedule["billing.sweep_payment_holds"]
    assert entry["task"] == "billing.sweep_payment_holds" and entry["schedule"] <= 60
    assert "billing.settle_payment_hold" in app.tasks  # what a commit that decides a capture or void queues


def test_outside_eager_mode_the_decision_is_queued_to_a_worker(ad_hoc, monkeypatch, invoice_of):
    from evcharge.celery import app

    queued = []
    monkeypatch.setattr(app.tasks["billing.settle_payment_hold"], "delay", queued.append)
    hold = authorize()
    app.conf.task_always_eager = False  # a worker's broker: the commit queues the task (set back for each test)
    try:
        completed = ad_hoc(hold)
    finally:
        app.conf.task_always_eager = True
    assert queued == [str(hold.hold_id)] and row(hold).status == "capturing"
    assert TestGateway.calls("capture") == []
    app.tasks["billing.settle_payment_hold"].run(str(hold.hold_id))  # what the worker runs
    assert invoice_of(completed.session_id).status == "paid"


# --- receipt, API, admin --------------------------------------------------------------------------


def test_the_receipt_of_a_session_paid_by_a_hold(ad_hoc):
    hold = authorize()
    completed = ad_hoc(hold)
    receipt = billing.facade().session_receipt(completed.session_id)
    assert (receipt.status, receipt.payment_status, receipt.total_amount, receipt.paid_amount) == (
        "paid",
        "partially_captured",
        TOTAL,
        TOTAL,
    )
    assert (receipt.energy_wh, receipt.started_at, receipt.ended_at) == (
        12_500,
        completed.started_at,
        completed.ended_at,
    )
    assert [line.kind for line in receipt.lines] == ["energy", "time", "session_fee"]
    assert receipt.lines[0].quantity == "12.500"
    assert (receipt.hold.status, receipt.hold.captured_amount, receipt.hold.card_label) == (
        "partially_captured",
        TOTAL,
        "Visa ending 4242",
    )
    assert billing.facade().session_receipt(uuid.uuid4()) is None


def test_the_api_shows_the_invoice_hold_and_payment_kind(
    ad_hoc, invoice_of, driver_client, operator_client, other_operator_client, other_driver_client
):
    hold = authorize()
    invoice = invoice_of(ad_hoc(hold).session_id)
    body = driver_client.get(f"{URL}/invoices/{invoice.id}").json()
    assert body["hold"]["status"] == "partially_captured"
    assert (body["hold"]["amount"], body["hold"]["captured_amount"], body["hold"]["released_amount"]) == (
        5000,
        TOTAL,
        4372,
    )
    assert body["hold"]["card_label"] == "Visa ending 4242" and "card_token" not in body["hold"]
    assert [(p["kind"], p["status"], p["amount"]) for p in body["payments"]] == [("hold_capture", "succeeded", TOTAL)]
    payment = driver_client.get(f"{URL}/payments/{body['payments'][0]['id']}").json()
    assert (payment["kind"], payment["status"]) == ("hold_capture", "succeeded")

    assert driver_client.get(f"{URL}/holds/{hold.hold_id}").json()["status"] == "partially_captured"
    assert operator_client.get(f"{URL}/holds?status=partially_captured").json()["count"] == 1
    assert operator_client.get(f"{URL}/holds?status=voided").json()["count"] == 0
    assert other_operator_client.get(f"{URL}/holds").json()["count"] == 0
    assert other_operator_client.get(f"{URL}/holds/{hold.hold_id}").status_code == 404
    assert other_driver_client.get(f"{URL}/holds/{hold.hold_id}").status_code == 404
    bad = operator_client.get(f"{URL}/holds?status=stolen")
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/problem+json")
    no_hold = driver_client.get(f"{URL}/invoices").json()["results"]
    assert all("hold" in item for item in no_hold)


def test_the_admin_lists_holds_by_state_scoped_to_the_operator(
    ad_hoc, client, admin_user, operator_user, other_operator_user
):
    paid = authorize()
    ad_hoc(paid)
    released = authorize()
    billing.facade().hold_void(hold_id=released.hold_id, reason="start failed")

    client.force_login(admin_user)
    page = client.get("/admin/billing/paymenthold/")
    assert page.status_code == 200
    assert str(paid.hold_id) in page.content.decode() and str(released.hold_id) in page.content.decode()
    voided = client.get("/admin/billing/paymenthold/?status__exact=voided").content.decode()
    assert str(released.hold_id) in voided and str(paid.hold_id) not in voided
    change = client.get(f"/admin/billing/paymenthold/{paid.hold_id}/change/")
    assert change.status_code == 200
    assert 'name="amount"' not in change.content.decode() and "tok_visa" not in change.content.decode()
    assert client.get("/admin/billing/invoice/").status_code == 200

    client.force_login(operator_user)  # the station's operator: the hold of their session, not the unused one
    listing = client.get("/admin/billing/paymenthold/").content.decode()
    assert str(paid.hold_id) in listing and str(released.hold_id) not in listing
    assert client.get(f"/admin/billing/paymenthold/{released.hold_id}/change/").status_code == 404

    client.force_login(other_operator_user)
    assert str(paid.hold_id) not in client.get("/admin/billing/paymenthold/").content.decode()
    assert client.get(f"/admin/billing/paymenthold/{paid.hold_id}/change/").status_code == 404


def test_an_invoice_paid_by_checkout_has_no_hold(open_invoice, card, checkout, driver_client):
    response = checkout(open_invoice.id, card())
    assert response.status_code == 201
    body = driver_client.get(f"{URL}/invoices/{open_invoice.id}").json()
    assert body["hold"] is None and body["payments"][0]["kind"] == "charge"
    assert Invoice.objects.get(id=open_invoice.id).status == "paid"
