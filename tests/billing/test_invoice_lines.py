"""Invoice lines computed from the session's tariff snapshot: integers only, each line rounded once,
half to even — checked against hand-computed sessions."""

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.billing.calculation import SessionFacts, session_lines
from tests.billing.conftest import T0, tariff

# The pure arithmetic needs no committed data: a rolled-back test transaction is enough (and much faster).
pure = pytest.mark.django_db(transaction=False)


def lines_of(invoice) -> dict[str, int]:
    return {line.kind: line.amount for line in invoice.lines.all()}


def compute(*, energy_wh=0, duration=timedelta(0), idle=None, **rates):
    ended_at = T0 + duration
    facts = SessionFacts(
        energy_wh=energy_wh,
        started_at=T0,
        ended_at=ended_at,
        charging_ended_at=None if idle is None else ended_at - idle,
    )
    return {line.kind: line.amount for line in session_lines(facts=facts, tariff=tariff(**rates))}


@pure
@pytest.mark.parametrize(
    ("energy_wh", "price", "expected"),
    [
        (12_500, 39, 488),  # 487.5 -> 488 (even)
        (12_500, 37, 462),  # 462.5 -> 462 (even)
        (2_500, 1, 2),  # 2.5 -> 2
        (1_500, 1, 2),  # 1.5 -> 2
        (1_499, 1, 1),  # 1.499 -> 1
        (10_000, 39, 390),  # exact
        (0, 39, 0),
        (1, 499, 0),  # 0.499 -> 0
        (1, 500, 0),  # 0.5 -> 0 (even)
        (3, 500, 2),  # 1.5 -> 2 (even)
    ],
)
def test_energy_line_is_rounded_once_half_to_even(energy_wh, price, expected):
    amounts = compute(energy_wh=energy_wh, energy_price_per_kwh=price, time_price_per_min=0, session_fee=0)
    assert amounts == {"energy": expected}


@pure
@pytest.mark.parametrize(
    ("duration", "price", "expected"),
    [
        (timedelta(seconds=90), 3, 4),  # 1.5 min x 3 = 4.5 -> 4
        (timedelta(seconds=150), 3, 8),  # 2.5 min x 3 = 7.5 -> 8
        (timedelta(minutes=45), 2, 90),
        (timedelta(seconds=61), 1, 1),  # 1.0166 -> 1
        (timedelta(seconds=30), 1, 0),  # 0.5 -> 0
        (timedelta(seconds=90, microseconds=999_999), 3, 4),  # sub-second remainders are dropped
    ],
)
def test_time_line_uses_exact_minutes(duration, price, expected):
    amounts = compute(duration=duration, time_price_per_min=price, session_fee=0)
    assert amounts["time"] == expected


@pure
@pytest.mark.parametrize(
    ("idle", "grace", "price", "expected"),
    [
        (timedelta(minutes=25, seconds=30), 10, 10, 155),  # 15.5 min beyond grace x 10
        (timedelta(minutes=25, seconds=30), 10, 3, 46),  # 46.5 -> 46 (even)
        (timedelta(minutes=26, seconds=30), 10, 3, 50),  # 49.5 -> 50 (even)
        (timedelta(minutes=10), 10, 10, None),  # within grace: no line
        (timedelta(minutes=9), 10, 10, None),
    ],
)
def test_idle_fee_counts_only_beyond_the_grace_period(idle, grace, price, expected):
    amounts = compute(
        duration=timedelta(hours=1), idle=idle, idle_grace_min=grace, idle_fee_per_min=price, time_price_per_min=0
    )
    assert amounts.get("idle_fee") == expected


@pure
def test_no_idle_fee_without_charging_ended_at():
    amounts = compute(duration=timedelta(hours=2), idle=None, idle_grace_min=0, idle_fee_per_min=10)
    assert "idle_fee" not in amounts


def test_a_hand_computed_session_through_the_events(sessions, invoice_of, outbox):
    # 23.456 kWh at 39 = 914.784 -> 915; 1 h 17 min 30 s at 2/min = 155; fee 50;
    # idle 32 min 15 s - 10 min grace = 22.25 min at 10 = 222.5 -> 222 (even). Total 1342.
    completed = sessions.run(
        energy_wh=23_456, duration=timedelta(hours=1, minutes=17, seconds=30), idle=timedelta(minutes=32, seconds=15)
    )
    invoice = invoice_of(completed.session_id)
    assert invoice.status == "open"
    assert [(line.kind, line.quantity, line.unit_amount, line.amount) for line in invoice.lines.all()] == [
        ("energy", Decimal("23.456"), 39, 915),
        ("time", Decimal("77.500"), 2, 155),
        ("session_fee", Decimal(1), 50, 50),
        ("idle_fee", Decimal("22.250"), 10, 222),
    ]
    assert (invoice.subtotal_amount, invoice.discount_amount, invoice.total_amount) == (1342, 0, 1342)
    assert all(isinstance(line.amount, int) for line in invoice.lines.all())
    [generated] = outbox("invoice.generated.v1")
    assert generated.data.invoice_id == invoice.id
    assert generated.data.total_amount == 1342
    assert generated.data.user_id == completed.user_id
    assert generated.data.station_id == completed.station_id


def test_invoice_uses_the_completed_events_tariff_snapshot(sessions, invoice_of):
    started = sessions.started()
    sessions.publish(started)
    completed = sessions.completed(
        started, energy_wh=10_000, tariff=tariff(energy_price_per_kwh=50, time_price_per_min=0)
    )
    sessions.publish(completed)
    assert lines_of(invoice_of(started.session_id)) == {"energy": 500, "session_fee": 50}
