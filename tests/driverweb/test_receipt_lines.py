"""A receipt in the reader's language: each line from its kind, quantity and unit (billing writes English); and
when the session's page may stop asking about it."""

from uuid import uuid4

import pytest
from django.utils import translation

from apps.driverweb.services import line_description, receipt_settled
from evcharge.contracts.billing import ReceiptLine, SessionReceipt


def line(kind: str, quantity: str, unit: str, description: str = "as billing wrote it") -> ReceiptLine:
    return ReceiptLine(kind=kind, description=description, quantity=quantity, unit=unit, unit_amount=1, amount=1)


@pytest.mark.parametrize(
    ("language", "receipt_line", "shown"),
    [
        ("en", line("energy", "12.345", "kWh"), "Energy 12.345 kWh"),
        ("de", line("energy", "12.345", "kWh"), "Energie 12,345 kWh"),
        ("en", line("time", "30.500", "min"), "Charging time 30 min 30 s"),
        ("de", line("time", "30.500", "min"), "Ladezeit 30 min 30 s"),
        ("de", line("idle_fee", "12.000", "min"), "Standgebühr für 12 min 00 s nach der Karenzzeit"),
        ("de", line("session_fee", "1.000", "item"), "Startgebühr"),
        ("de", line("reservation_fee", "1.000", "item", "No-show, 14:00 slot"), "No-show, 14:00 slot"),  # staff's
        ("de", line("product", "1.000", "item", "Parking ticket"), "Parking ticket"),  # own words
        ("de", line("energy", "1.000", "MWh", "Energy 1.000 MWh"), "Energy 1.000 MWh"),  # not the unit it knows
    ],
)
def test_a_receipt_line_reads_in_the_readers_language(language, receipt_line, shown):
    with translation.override(language):
        assert line_description(receipt_line) == shown


def receipt(status: str, payment_status: str) -> SessionReceipt:
    return SessionReceipt(
        invoice_id=uuid4(),
        session_id=uuid4(),
        user_id=uuid4(),
        status=status,
        currency="EUR",
        lines=(),
        subtotal_amount=100,
        discount_amount=0,
        total_amount=100,
        paid_amount=0,
        payment_status=payment_status,
        promotion_code="",
        energy_wh=1_000,
        started_at=None,
        ended_at=None,
    )


@pytest.mark.parametrize(
    ("status", "payment_status", "settled"),
    [
        ("open", "pending", False),  # the capture's answer was lost: the sweep asks again
        ("open", "none", False),  # not final yet
        ("paid", "pending", False),
        ("paid", "authorized", False),
        ("paid", "partially_captured", True),
        ("paid", "captured", True),
        ("paid", "succeeded", True),
        ("void", "voided", True),
        ("void", "none", True),
        ("refunded", "refunded", True),  # final too: the page stops asking
        ("paid", "something_new", False),  # a state it does not know: keep asking
    ],
)
def test_the_page_stops_asking_once_the_invoice_is_final_and_the_bank_has_answered(status, payment_status, settled):
    assert receipt_settled(receipt(status, payment_status)) is settled
    assert receipt_settled(None) is False
