"""Reports follow the money: every change of an invoice's money after generation publishes invoice.updated.v1
(its whole money state, a per-invoice version bumped in the same transaction)."""

import pytest

from apps.billing.models import Invoice

URL = "/api/v1/billing"


def updates(outbox, invoice_id):
    return [e.data for e in outbox("invoice.updated.v1") if e.data.invoice_id == invoice_id]


def money(update) -> tuple:
    return (
        update.status,
        update.subtotal_amount,
        update.discount_amount,
        update.total_amount,
        update.paid_amount,
        update.reason,
    )


@pytest.fixture
def ten_percent(operator_client):
    response = operator_client.post(
        "/api/v1/pricing/promotions",
        {"code": "TENOFF", "kind": "percent", "value": 10, "valid_from": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_generation_publishes_the_first_version(open_invoice, outbox):
    [first] = updates(outbox, open_invoice.id)
    assert money(first) == ("open", 628, 0, 628, 0, "finalized")
    assert first.version == 1 == Invoice.objects.get(id=open_invoice.id).version
    assert (first.session_id, first.user_id, first.station_id, first.operator_id, first.currency) == (
        open_invoice.session_id,
        open_invoice.user_id,
        open_invoice.station_id,
        open_invoice.operator_id,
        "EUR",
    )


def test_lines_added_and_removed(open_invoice, operator_client, outbox):
    added = operator_client.post(
        f"{URL}/invoices/{open_invoice.id}/lines",
        {"kind": "product", "description": "Coffee", "quantity": 2, "unit_amount": 150},
        format="json",
    )
    assert added.status_code == 201, added.content
    line_id = next(line["id"] for line in added.json()["lines"] if line["kind"] == "product")
    assert operator_client.delete(f"{URL}/invoices/{open_invoice.id}/lines/{line_id}").status_code == 200
    _, after_add, after_remove = updates(outbox, open_invoice.id)
    assert money(after_add) == ("open", 928, 0, 928, 0, "line_added")
    assert money(after_remove) == ("open", 628, 0, 628, 0, "line_removed")
    assert (after_add.version, after_remove.version) == (2, 3)
    assert Invoice.objects.get(id=open_invoice.id).version == 3


def test_checkout_with_a_promotion_publishes_the_discount_then_the_payment(
    open_invoice, ten_percent, card, checkout, outbox
):
    assert checkout(open_invoice.id, card(), promotion_code="TENOFF").status_code == 201
    _, discount, payment = updates(outbox, open_invoice.id)
    assert money(discount) == ("open", 628, 63, 565, 0, "discount")
    assert money(payment) == ("paid", 628, 63, 565, 565, "payment")
    assert (discount.version, payment.version) == (2, 3)


def test_a_failed_payment_gives_the_discount_back(open_invoice, ten_percent, card, checkout, outbox):
    assert checkout(open_invoice.id, card("tok_declined"), promotion_code="TENOFF").status_code == 201
    _, discount, removed = updates(outbox, open_invoice.id)
    assert money(discount) == ("open", 628, 63, 565, 0, "discount")
    assert money(removed) == ("open", 628, 0, 628, 0, "discount")


def test_refund_and_void(open_invoice, sessions, invoice_of, card, checkout, operator_client, outbox):
    checkout(open_invoice.id, card())
    refunded = operator_client.post(
        f"{URL}/invoices/{open_invoice.id}/status", {"status": "refunded", "reason": "broken"}, format="json"
    )
    assert refunded.status_code == 200, refunded.content
    assert money(updates(outbox, open_invoice.id)[-1]) == ("refunded", 628, 0, 628, 0, "refund")
    assert updates(outbox, open_invoice.id)[-1].version == 3

    other = invoice_of(sessions.run().session_id)
    voided = operator_client.post(
        f"{URL}/invoices/{other.id}/status", {"status": "void", "reason": "test"}, format="json"
    )
    assert voided.status_code == 200, voided.content
    assert money(updates(outbox, other.id)[-1]) == ("void", 628, 0, 628, 0, "void")


def test_no_update_for_a_draft(sessions, invoice_of, operator_client, outbox):
    started = sessions.started()
    sessions.publish(started)
    draft = invoice_of(started.session_id)
    added = operator_client.post(
        f"{URL}/invoices/{draft.id}/lines",
        {"kind": "product", "description": "Coffee", "quantity": 1, "unit_amount": 150},
        format="json",
    )
    assert added.status_code == 201
    assert updates(outbox, draft.id) == []
    sessions.publish(sessions.completed(started))
    [generated] = updates(outbox, draft.id)
    assert (generated.version, generated.reason, generated.subtotal_amount) == (1, "finalized", 778)


def test_notifications_ignore_invoice_updates(open_invoice, operator_client):
    from apps.notifications.models import Notification

    before = Notification.objects.count()
    operator_client.post(
        f"{URL}/invoices/{open_invoice.id}/lines",
        {"kind": "product", "description": "Coffee", "quantity": 1, "unit_amount": 150},
        format="json",
    )
    assert Notification.objects.count() == before
