"""Every currency with its real minor units: the dashboard (JPY 0 digits, KWD 3, EUR 2), billed and paid apart,
and the reports' currency filter takes ISO 4217 codes in circulation only."""

import re
from datetime import UTC, datetime

import pytest
from django.db import transaction

from evcharge.events import publish
from tests.reporting.scenario import Session, Station

DAY = {"start": "2026-03-10", "end": "2026-03-10"}


@pytest.fixture
def three_currencies(reporting_only, operator_org):
    """One session each in Tokyo (JPY 500 billed, 500 paid), Kuwait (KWD 1234 = 1.234 KWD billed, 1000 paid)
    and Berlin (EUR 1234 = 12.34 EUR billed, nothing paid)."""
    sessions = []
    for name, tz, currency, billed, paid in [
        ("Tokyo Ginza", "Asia/Tokyo", "JPY", 500, 500),
        ("Kuwait City", "Asia/Kuwait", "KWD", 1234, 1000),
        ("Berlin Mitte", "Europe/Berlin", "EUR", 1234, 0),
    ]:
        station = Station(operator_org.id, name, tz, connectors=1)
        session = Session(station, currency, datetime(2026, 3, 10, 6, tzinfo=UTC), datetime(2026, 3, 10, 7, tzinfo=UTC))
        session.energy_wh = 10_000
        with transaction.atomic():
            publish(station.created())
            publish(session.started())
            publish(session.completed())
            publish(session.invoice(billed))
            if paid:
                publish(session.paid(paid))
        sessions.append(session)
    return sessions


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_dashboard_shows_each_currency_in_its_own_minor_units(client, operator_user, three_currencies):
    client.force_login(operator_user)

    response = client.get("/reports/dashboard", DAY)

    assert response.status_code == 200
    page = text_of(response)
    # per-currency totals: billed and paid apart
    assert "JPY ¥500 ¥500" in page
    assert "KWD KWD1.234 KWD1.000" in page
    assert "EUR €12.34 €0.00" in page
    # the stations table
    assert "Tokyo Ginza" in page and "¥5.00" not in page
    assert "KWD12.34" not in page and "€1,234" not in page


def test_the_revenue_charts_are_in_major_units(client, operator_user, three_currencies):
    client.force_login(operator_user)

    page = client.get("/reports/dashboard", DAY).content.decode()

    charts = {
        m.group(1): m.group(0) for m in re.finditer(r'<svg[^>]*aria-label="Revenue billed \((\w+)\)".*?</svg>', page)
    }
    assert set(charts) == {"EUR", "JPY", "KWD"}
    assert "<title>03-10: 500</title>" in charts["JPY"]
    assert "<title>03-10: 1.234</title>" in charts["KWD"]
    assert "<title>03-10: 12.34</title>" in charts["EUR"]


@pytest.mark.parametrize("currency", ["ABC", "XXX", "EU", "EURO", "12€"])
def test_the_currency_filter_takes_iso_4217_codes_only(admin_client, currency):
    response = admin_client.get("/api/v1/reports/revenue", {"currency": currency})

    assert response.status_code == 400
    assert "currency" in response.json()["errors"]


def test_the_currency_filter(admin_client, three_currencies):
    response = admin_client.get(
        "/api/v1/reports/revenue", {"from": "2026-03-10", "to": "2026-03-10", "currency": "KWD"}
    )

    assert response.status_code == 200
    assert [(r["currency"], r["revenue_amount"], r["paid_amount"]) for r in response.json()["results"]] == [
        ("KWD", 1234, 1000)
    ]
