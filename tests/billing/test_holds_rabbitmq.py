"""A session paid by a card pre-authorisation with the events on RabbitMQ: session.completed.v1 delivered twice
captures once, and reporting counts the payment once."""

import uuid

import pytest
from django.db import transaction

from apps.billing.gateways import TestGateway
from apps.billing.models import Invoice, Payment, PaymentHold
from evcharge.contracts import billing

TOTAL = 628


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_a_hold_is_captured_once_at_the_invoice_total_over_rabbitmq(bus, sessions, outbox):
    from apps.reporting.models import SessionFact

    hold = billing.facade().hold_authorize(card_token="tok_visa", currency="EUR", idempotency_key=uuid.uuid4().hex)
    started = sessions.started()
    with transaction.atomic():  # the start and the hold's attachment commit together
        billing.facade().hold_attach(hold_id=hold.hold_id, session_id=started.session_id, user_id=started.user_id)
        sessions.publish(started)
    completed = sessions.completed(started)
    sessions.publish(completed)
    sessions.publish(completed)  # a second copy (another event id: only billing's own state can tell)

    invoice = bus.wait_until(lambda: Invoice.objects.filter(session_id=started.session_id, status="paid").first())
    bus.settle()
    assert invoice.total_amount == TOTAL
    assert len(TestGateway.received("capture")) == 1
    assert TestGateway.calls("capture")[0].released == 5000 - TOTAL
    assert PaymentHold.objects.get(id=hold.hold_id).status == "partially_captured"
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert len(outbox("payment.succeeded.v1")) == 1
    fact = bus.wait_until(lambda: SessionFact.objects.filter(session_id=started.session_id, paid_amount=TOTAL).first())
    assert fact.revenue_amount == TOTAL
