"""invoice.updated.v1 (billing's whole money state of an invoice, versioned) sets the report's figures.

On the scenario of scenario.py: B1 is the only EUR session on Jan 31 (invoice 780, paid 780 through the old
events), B2 the only EUR session on Feb 1 (invoice 390, payment failed). Each test publishes what billing would
publish after a change and asserts the revenue report equals billing's figures, in any order, any number of times.
"""

import random
import uuid

import pytest
from django.db import transaction

from apps.reporting import services
from evcharge.contracts.billing import InvoiceUpdated, InvoiceVoided, PaymentRefunded, PaymentSucceeded
from evcharge.events import publish
from evcharge.events.dispatch import DUPLICATE, deliver
from tests.reporting.scenario import Session

PERIOD = {"from": "2026-01-31", "to": "2026-02-01", "currency": "EUR"}
DAY = {"b1": "2026-01-31", "b2": "2026-02-01"}


def updated(session: Session, version: int, *, status: str, subtotal: int, discount: int = 0, paid: int = 0,
            reason: str, total: int | None = None, currency: str | None = None) -> InvoiceUpdated:  # fmt: skip
    return InvoiceUpdated(
        invoice_id=session.invoice_id,
        session_id=session.session_id,
        user_id=session.user_id,
        station_id=session.station.station_id,
        operator_id=session.station.operator_id,
        status=status,
        currency=currency or session.currency,
        subtotal_amount=subtotal,
        discount_amount=discount,
        total_amount=subtotal - discount if total is None else total,
        paid_amount=paid,
        version=version,
        reason=reason,
    )


def send(*events) -> None:
    for event in events:
        with transaction.atomic():
            publish(event)


def money(client) -> dict[str, tuple[int, int]]:
    """{"b1" | "b2": (revenue_amount, paid_amount)} from the revenue report (EUR, one session per day)."""
    response = client.get("/api/v1/reports/revenue", PERIOD)
    assert response.status_code == 200, response.content
    by_day = {row["period_start"]: (row["revenue_amount"], row["paid_amount"]) for row in response.json()["results"]}
    return {name: by_day.get(day, (0, 0)) for name, day in DAY.items()}


def stations_money(client, scenario) -> tuple[int, int]:
    rows = client.get("/api/v1/reports/stations", {"from": "2026-01-31", "to": "2026-02-01"}).json()["results"]
    (berlin,) = [row for row in rows if row["station_id"] == str(scenario.berlin.station_id)]
    (eur,) = berlin["revenue"]
    return eur["amount"], eur["paid_amount"]


def changes(scenario) -> dict[str, list[InvoiceUpdated]]:
    """Every kind of change billing reports after generation, as the sequence of versions it publishes."""
    b1, b2 = scenario.b1, scenario.b2
    return {
        # B2: a 10 % promotion at checkout, then the payment of the discounted total
        "discount_then_payment": [
            updated(b2, 2, status="open", subtotal=390, discount=39, reason="discount"),
            updated(b2, 3, status="paid", subtotal=390, discount=39, paid=351, reason="payment"),
        ],
        # B1: an idle fee line added after generation (and after payment), then removed again, then added
        "line_added_and_removed": [
            updated(b1, 2, status="open", subtotal=980, paid=780, reason="line_added"),
            updated(b1, 3, status="paid", subtotal=780, paid=780, reason="line_removed"),
            updated(b1, 4, status="open", subtotal=830, paid=780, reason="line_added"),
        ],
        # B1: a partial refund, then the rest
        "refunds": [
            updated(b1, 2, status="paid", subtotal=780, paid=500, reason="refund"),
            updated(b1, 3, status="refunded", subtotal=780, paid=0, reason="refund"),
        ],
        # B2: voided: it earns nothing
        "void": [updated(b2, 2, status="void", subtotal=390, reason="void")],
    }


EXPECTED = {
    "discount_then_payment": {"b1": (780, 780), "b2": (351, 351)},
    "line_added_and_removed": {"b1": (830, 780), "b2": (390, 0)},
    "refunds": {"b1": (780, 0), "b2": (390, 0)},
    "void": {"b1": (780, 780), "b2": (0, 0)},
}


@pytest.mark.parametrize("kind", EXPECTED)
def test_the_report_equals_billings_figures_after_each_change(admin_client, scenario, kind):
    assert money(admin_client) == {"b1": (780, 780), "b2": (390, 0)}
    for event in changes(scenario)[kind]:
        send(event)
        session = "b1" if event.session_id == scenario.b1.session_id else "b2"
        revenue = 0 if event.status == "void" else event.total_amount
        assert money(admin_client)[session] == (revenue, event.paid_amount), (kind, event.version)

    assert money(admin_client) == EXPECTED[kind]
    expected_berlin = tuple(a + b for a, b in zip(*EXPECTED[kind].values(), strict=True))
    assert stations_money(admin_client, scenario) == expected_berlin


@pytest.mark.parametrize("kind", EXPECTED)
def test_reversed_order_gives_the_same_figures(admin_client, scenario, kind):
    send(*reversed(changes(scenario)[kind]))

    assert money(admin_client) == EXPECTED[kind]


@pytest.mark.parametrize("kind", EXPECTED)
def test_redelivered_copies_change_nothing(admin_client, scenario, outbox, kind):
    send(*changes(scenario)[kind])
    copies = outbox(InvoiceUpdated.TYPE)

    for envelope in copies:
        assert deliver(envelope, "reporting") == DUPLICATE
    for envelope in [*copies, *reversed(copies)]:  # past the inbox: straight into the service
        services.event_apply(envelope=envelope)

    assert money(admin_client) == EXPECTED[kind]


def test_the_old_events_arriving_after_the_update_do_not_count_twice(admin_client, scenario):
    """Billing publishes payment.succeeded.v1 and invoice.updated.v1 in the same transaction; whichever
    reporting hears first, the paid figure is the payment once."""
    b2 = scenario.b2
    payment = PaymentSucceeded(
        payment_id=uuid.uuid4(), invoice_id=b2.invoice_id, session_id=b2.session_id, user_id=b2.user_id,
        station_id=b2.station.station_id, amount=351, discount_amount=39, currency="EUR",
    )  # fmt: skip
    send(
        updated(b2, 2, status="open", subtotal=390, discount=39, reason="discount"),
        updated(b2, 3, status="paid", subtotal=390, discount=39, paid=351, reason="payment"),
        payment,
        b2.invoice(390),  # a late copy of the generation, before the discount
    )
    assert money(admin_client)["b2"] == (351, 351)

    send(
        PaymentRefunded(
            payment_id=payment.payment_id,
            invoice_id=b2.invoice_id,
            user_id=b2.user_id,
            station_id=b2.station.station_id,
            amount=51,
            currency="EUR",
            reason="goodwill",
        ),
        updated(b2, 4, status="paid", subtotal=390, discount=39, paid=300, reason="refund"),
    )
    assert money(admin_client)["b2"] == (351, 300)


def test_a_void_through_either_event_earns_nothing(admin_client, scenario):
    b1 = scenario.b1
    send(
        InvoiceVoided(invoice_id=b1.invoice_id, session_id=b1.session_id, user_id=b1.user_id, reason="test"),
        updated(b1, 2, status="open", subtotal=980, paid=780, reason="line_added"),  # older than the void
    )

    assert money(admin_client)["b1"] == (0, 780)


def test_an_update_before_anything_else_about_the_session(admin_client, scenario):
    """A session reporting hears of first through invoice.updated.v1: its money counts once it completes."""
    fresh = Session(scenario.berlin, "EUR", scenario.b2.started_at.replace(hour=15), scenario.b2.started_at.replace(
        hour=16), 5000)  # fmt: skip
    send(updated(fresh, 2, status="paid", subtotal=200, discount=20, paid=180, reason="payment"))
    send(fresh.invoice(200), fresh.completed(), fresh.started())

    rows = admin_client.get("/api/v1/reports/revenue", PERIOD).json()["results"]
    assert [(r["period_start"], r["sessions"], r["revenue_amount"], r["paid_amount"]) for r in rows] == [
        ("2026-01-31", 1, 780, 780),
        ("2026-02-01", 2, 390 + 180, 0 + 180),
    ]


def test_a_currency_correction_moves_the_money(admin_client, scenario):
    send(updated(scenario.b2, 2, status="open", subtotal=60000, currency="JPY", reason="finalized"))

    assert money(admin_client)["b2"] == (0, 0)
    rows = admin_client.get("/api/v1/reports/revenue", {**PERIOD, "currency": "JPY"}).json()["results"]
    assert [(r["period_start"], r["revenue_amount"]) for r in rows] == [("2026-02-01", 60000)]


def test_any_order_of_old_and_new_events_gives_the_same_rollups(admin_client, scenario, outbox):
    b2 = scenario.b2
    payment = PaymentSucceeded(
        payment_id=uuid.uuid4(), invoice_id=b2.invoice_id, session_id=b2.session_id, user_id=b2.user_id,
        station_id=b2.station.station_id, amount=351, discount_amount=39, currency="EUR",
    )  # fmt: skip
    send(
        updated(b2, 2, status="open", subtotal=390, discount=39, reason="discount"),
        payment,
        updated(b2, 3, status="paid", subtotal=390, discount=39, paid=351, reason="payment"),
    )
    expected = money(admin_client)
    assert expected["b2"] == (351, 351)
    envelopes = outbox()

    for seed in range(4):
        services.read_model_clear()
        shuffled = envelopes[:]
        random.Random(seed).shuffle(shuffled)
        for envelope in shuffled:
            services.event_apply(envelope=envelope)
        assert money(admin_client) == expected, f"order {seed}"
