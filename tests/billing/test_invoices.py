"""Invoices from the session events, finalize, staff items, visibility, void and refund."""

import uuid
from datetime import timedelta

from apps.billing.models import Invoice, InvoiceLine
from evcharge.events import EventEnvelope
from evcharge.events.dispatch import APPLIED, DUPLICATE, deliver

URL = "/api/v1/billing/invoices"


def snapshot(invoice):
    return [(line.kind, line.quantity, line.unit_amount, line.amount) for line in invoice.lines.all()]


# --- from the session events ---


def test_session_started_opens_a_draft_invoice_with_a_provisional_hold(sessions, invoice_of, driver_client):
    started = sessions.started()
    sessions.publish(started)
    invoice = invoice_of(started.session_id)
    assert invoice.status == "draft"
    # estimated 20 kWh x 39 + 60 min x 2 + fee 50 = 950; recorded only, nothing is charged
    assert invoice.hold_amount == 950
    assert invoice.lines.count() == 0
    assert not invoice.payments.exists()
    body = driver_client.get(f"{URL}/{invoice.id}").json()
    assert (body["status"], body["hold_amount"], body["total_amount"]) == ("draft", 950, 0)


def test_the_same_envelope_twice_is_applied_once(sessions, invoice_of, outbox):
    completed = sessions.run()
    envelope = outbox("session.completed.v1")[0]
    before = snapshot(invoice_of(completed.session_id))
    assert deliver(envelope, "billing") == DUPLICATE
    assert deliver(envelope, "billing") == DUPLICATE
    # the same facts in a new envelope (a republish) change nothing either
    assert deliver(EventEnvelope.wrap(completed), "billing") == APPLIED
    assert Invoice.objects.filter(session_id=completed.session_id).count() == 1
    assert snapshot(invoice_of(completed.session_id)) == before
    assert len(outbox("invoice.generated.v1")) == 1


def test_completed_before_started_creates_the_invoice_from_the_completed_event(sessions, invoice_of, outbox):
    started = sessions.started()
    completed = sessions.completed(started)
    sessions.publish(completed)
    invoice = invoice_of(started.session_id)
    assert invoice.status == "open"
    assert invoice.total_amount == 628
    sessions.publish(started)  # arrives late: nothing changes
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_amount, invoice.lines.count()) == ("open", 628, 3)
    assert len(outbox("invoice.generated.v1")) == 1


# --- finalize ---


def test_finalize_after_the_event_is_idempotent(sessions, invoice_of, operator_client, admin_client, outbox):
    completed = sessions.run()
    before = snapshot(invoice_of(completed.session_id))
    for client in (operator_client, admin_client, operator_client):
        response = client.post(f"{URL}/{completed.session_id}/finalize")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "open"
        assert response.json()["total_amount"] == 628
    assert snapshot(invoice_of(completed.session_id)) == before
    assert len(outbox("invoice.generated.v1")) == 1


def test_finalize_with_an_api_key(sessions, client_for, api_key_for, operator_org):
    completed = sessions.run()
    response = client_for(api_key=api_key_for(operator_org)).post(f"{URL}/{completed.session_id}/finalize")
    assert response.status_code == 200, response.content


def test_finalize_before_the_session_completed_is_a_conflict(sessions, operator_client):
    started = sessions.started()
    sessions.publish(started)
    response = operator_client.post(f"{URL}/{started.session_id}/finalize")
    assert response.status_code == 409
    assert "session.completed.v1" in response.json()["detail"]
    unknown = operator_client.post(f"{URL}/{uuid.uuid4()}/finalize")
    assert unknown.status_code == 409


def test_finalize_is_for_staff_of_the_station(sessions, driver_client, other_operator_client):
    completed = sessions.run()
    assert driver_client.post(f"{URL}/{completed.session_id}/finalize").status_code == 403
    assert other_operator_client.post(f"{URL}/{completed.session_id}/finalize").status_code == 404


# --- staff items ---


def test_staff_add_and_remove_items_with_totals_recomputed(open_invoice, operator_client, driver_client):
    response = operator_client.post(
        f"{URL}/{open_invoice.id}/lines",
        {"kind": "reservation_fee", "description": "Reservation 30 min", "quantity": "1", "unit_amount": 150},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total_amount"] == 628 + 150
    response = operator_client.post(
        f"{URL}/{open_invoice.id}/lines",
        {"kind": "adjustment", "description": "Goodwill", "quantity": "2.5", "unit_amount": -45},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    adjustment = next(line for line in body["lines"] if line["kind"] == "adjustment")
    assert adjustment["amount"] == -112  # 2.5 x -45 = -112.5 -> -112 (half to even)
    assert (body["subtotal_amount"], body["total_amount"]) == (666, 666)

    response = operator_client.delete(f"{URL}/{open_invoice.id}/lines/{adjustment['id']}")
    assert response.status_code == 200, response.content
    assert response.json()["total_amount"] == 778
    assert driver_client.get(f"{URL}/{open_invoice.id}").json()["total_amount"] == 778


def test_item_rules(open_invoice, operator_client, driver_client, other_operator_client):
    lines = f"{URL}/{open_invoice.id}/lines"
    item = {"kind": "product", "description": "Coffee", "quantity": "1", "unit_amount": 250}
    assert driver_client.post(lines, item, format="json").status_code == 403
    assert other_operator_client.post(lines, item, format="json").status_code == 404
    for bad in (
        {**item, "kind": "energy"},
        {**item, "kind": "discount"},
        {**item, "unit_amount": -5},  # only an adjustment may credit
        {**item, "quantity": "0"},
        {**item, "unit_amount": "lots"},
    ):
        response = operator_client.post(lines, bad, format="json")
        assert response.status_code == 400, bad
        assert response["Content-Type"] == "application/problem+json"
    too_big_credit = {"kind": "adjustment", "description": "x", "quantity": "1", "unit_amount": -10_000}
    assert operator_client.post(lines, too_big_credit, format="json").status_code == 422
    assert operator_client.delete(f"{lines}/{uuid.uuid4()}").status_code == 404


def test_items_can_be_added_to_a_draft_and_survive_finalization(sessions, operator_client, invoice_of):
    started = sessions.started()
    sessions.publish(started)
    invoice = invoice_of(started.session_id)
    response = operator_client.post(
        f"{URL}/{invoice.id}/lines",
        {"kind": "reservation_fee", "description": "Reservation", "unit_amount": 100},
        format="json",
    )
    assert response.status_code == 201, response.content
    sessions.publish(sessions.completed(started))
    invoice.refresh_from_db()
    assert [line.kind for line in invoice.lines.all()] == ["energy", "time", "session_fee", "reservation_fee"]
    assert invoice.total_amount == 728


def test_items_are_frozen_once_paid(open_invoice, operator_client, card, checkout):
    assert checkout(open_invoice.id, card()).status_code == 201
    line = open_invoice.lines.first()
    item = {"kind": "product", "description": "Coffee", "quantity": "1", "unit_amount": 250}
    assert operator_client.post(f"{URL}/{open_invoice.id}/lines", item, format="json").status_code == 409
    assert operator_client.delete(f"{URL}/{open_invoice.id}/lines/{line.id}").status_code == 409
    assert InvoiceLine.objects.filter(id=line.id).exists()


# --- visibility and history ---


def test_a_driver_sees_only_their_invoices(open_invoice, other_driver_client, other_operator_client, operator_client):
    assert other_driver_client.get(f"{URL}/{open_invoice.id}").status_code == 404
    assert other_driver_client.get(URL).json()["count"] == 0
    assert other_operator_client.get(f"{URL}/{open_invoice.id}").status_code == 404
    assert operator_client.get(f"{URL}/{open_invoice.id}").status_code == 200
    assert operator_client.get(URL).json()["count"] == 1


def test_order_history_newest_first_with_filters(sessions, driver_client, admin_client):
    first = sessions.started()
    second = sessions.started(started_at=first.started_at + timedelta(days=1))
    third = sessions.started(started_at=first.started_at + timedelta(days=2))
    sessions.publish(first, second, third)
    sessions.publish(sessions.completed(second))
    body = driver_client.get(URL).json()
    assert [i["session_id"] for i in body["results"]] == [
        str(third.session_id),
        str(second.session_id),
        str(first.session_id),
    ]
    assert body["count"] == 3
    assert [i["session_id"] for i in driver_client.get(URL, {"status": "open"}).json()["results"]] == [
        str(second.session_id)
    ]
    window = {"from": (first.started_at + timedelta(hours=12)).isoformat(), "to": third.started_at.isoformat()}
    assert [i["session_id"] for i in driver_client.get(URL, window).json()["results"]] == [str(second.session_id)]
    assert driver_client.get(URL, {"limit": 1}).json()["next"] is not None
    assert driver_client.get(URL, {"status": "nonsense"}).status_code == 400
    assert driver_client.get(URL, {"from": "yesterday"}).status_code == 400
    assert admin_client.get(URL).json()["count"] == 3


# --- void and refund ---


def test_void_an_open_invoice(open_invoice, operator_client, driver_client, outbox, card, checkout):
    response = operator_client.post(
        f"{URL}/{open_invoice.id}/status", {"status": "void", "reason": "test session"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "void"
    [voided] = outbox("invoice.voided.v1")
    assert voided.data.reason == "test session"
    assert checkout(open_invoice.id, card()).status_code == 409
    assert (
        driver_client.post(
            f"{URL}/{open_invoice.id}/status", {"status": "void", "reason": "x"}, format="json"
        ).status_code
        == 403
    )


def test_refund_a_paid_invoice_through_the_gateway(open_invoice, operator_client, card, checkout, outbox):
    from apps.billing.gateways import TestGateway
    from apps.billing.selectors import ledger_cash_balance

    payment_id = checkout(open_invoice.id, card()).json()["payment"]["id"]
    assert ledger_cash_balance(open_invoice.id) == 628
    status_url = f"{URL}/{open_invoice.id}/status"
    assert operator_client.post(status_url, {"status": "void", "reason": "x"}, format="json").status_code == 409
    response = operator_client.post(status_url, {"status": "refunded", "reason": "charger fault"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "refunded"
    assert response.json()["payments"][0]["status"] == "refunded"
    assert len(TestGateway.calls("refund")) == 1
    assert ledger_cash_balance(open_invoice.id) == 0
    [refunded] = outbox("payment.refunded.v1")
    assert (str(refunded.data.payment_id), refunded.data.amount, refunded.data.reason) == (
        payment_id,
        628,
        "charger fault",
    )
    # refunding again changes nothing and moves no money
    assert operator_client.post(status_url, {"status": "refunded", "reason": "again"}, format="json").status_code == 200
    assert len(TestGateway.calls("refund")) == 1
    assert ledger_cash_balance(open_invoice.id) == 0


def test_only_a_paid_invoice_can_be_refunded(open_invoice, admin_client):
    response = admin_client.post(
        f"{URL}/{open_invoice.id}/status", {"status": "refunded", "reason": "x"}, format="json"
    )
    assert response.status_code == 409
    bad = admin_client.post(f"{URL}/{open_invoice.id}/status", {"status": "paid", "reason": "x"}, format="json")
    assert bad.status_code == 400


def test_a_voided_draft_is_not_finalized_by_the_completed_event(sessions, operator_client, invoice_of, outbox):
    started = sessions.started()
    sessions.publish(started)
    invoice = invoice_of(started.session_id)
    operator_client.post(f"{URL}/{invoice.id}/status", {"status": "void", "reason": "fraud"}, format="json")
    sessions.publish(sessions.completed(started))
    invoice.refresh_from_db()
    assert invoice.status == "void"
    assert outbox("invoice.generated.v1") == []
