"""A receipt's lines in the reader's language, from each line's kind and quantity (billing writes English)."""

import pytest
from django.utils import translation

from apps.driverweb.services import line_description
from evcharge.contracts.billing import ReceiptLine


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
        ("de", line("reservation_fee", "1.000", "item"), "Reservierungsgebühr"),
        ("de", line("product", "1.000", "item", "Parking ticket"), "Parking ticket"),  # staff's own words
    ],
)
def test_a_receipt_line_reads_in_the_readers_language(language, receipt_line, shown):
    with translation.override(language):
        assert line_description(receipt_line) == shown
