"""The report figures on the hand-computed scenario of scenario.py (two operators, two time zones, a month end)."""

import pytest

PERIOD = {"from": "2026-01-31", "to": "2026-02-01"}


def test_revenue_by_local_day_and_currency(admin_client, scenario):
    response = admin_client.get("/api/v1/reports/revenue", {**PERIOD, "group_by": "day"})

    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        {"period_start": "2026-01-31", "period_end": "2026-01-31", "currency": "EUR", "sessions": 1,
         "energy_wh": 20_000, "revenue_amount": 780, "paid_amount": 780},
        # N1 ran 03:00-05:00 UTC on Feb 1, which is Jan 31 evening in New York
        {"period_start": "2026-01-31", "period_end": "2026-01-31", "currency": "USD", "sessions": 1,
         "energy_wh": 30_000, "revenue_amount": 1500, "paid_amount": 1500},
        {"period_start": "2026-02-01", "period_end": "2026-02-01", "currency": "EUR", "sessions": 1,
         "energy_wh": 10_000, "revenue_amount": 390, "paid_amount": 0},
    ]  # fmt: skip


def test_revenue_by_month_and_currency_filter(admin_client, scenario):
    response = admin_client.get(
        "/api/v1/reports/revenue", {"from": "2026-01-15", "to": "2026-02-28", "group_by": "month", "currency": "EUR"}
    )

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["period_start"], r["period_end"], r["sessions"], r["revenue_amount"]) for r in results] == [
        ("2026-01-15", "2026-01-31", 1, 780),
        ("2026-02-01", "2026-02-28", 1, 390),
    ]  # fmt: skip


def test_utilization_splits_the_session_across_local_midnight_at_month_end(admin_client, scenario):
    station = scenario.berlin.station_id
    daily = admin_client.get("/api/v1/reports/utilization", {**PERIOD, "station_id": station})
    monthly = admin_client.get(
        "/api/v1/reports/utilization",
        {"from": "2026-01-01", "to": "2026-02-28", "group_by": "month", "station_id": station},
    )

    # B1: 1800 s before Berlin midnight, 5400 s after; B2: 3600 s on Feb 1; 2 connectors
    assert [(r["period_start"], r["occupied_seconds"], r["capacity_seconds"], r["utilization"])
            for r in daily.json()["results"]] == [
        ("2026-01-31", 1800, 2 * 86_400, 0.0104),
        ("2026-02-01", 9000, 2 * 86_400, 0.0521),
    ]  # fmt: skip
    assert [(r["period_start"], r["occupied_seconds"], r["capacity_seconds"]) for r in monthly.json()["results"]] == [
        ("2026-01-01", 1800, 2 * 31 * 86_400),
        ("2026-02-01", 9000, 2 * 28 * 86_400),
    ]


def test_utilization_of_all_stations_adds_their_connectors(admin_client, scenario):
    response = admin_client.get("/api/v1/reports/utilization", {**PERIOD, "group_by": "week"})

    # 2026-01-31 is a Saturday: the week bucket is clipped to the range; Feb 1 is the Sunday of that week
    assert response.json()["results"] == [
        {"period_start": "2026-01-31", "period_end": "2026-02-01", "occupied_seconds": 1800 + 7200 + 9000,
         "capacity_seconds": 3 * 2 * 86_400, "utilization": 0.0347},
    ]  # fmt: skip


def test_stations_report(admin_client, scenario):
    response = admin_client.get("/api/v1/reports/stations", PERIOD)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    berlin, new_york = body["results"]  # ordered by name
    assert berlin | {"utilization": None} == {
        "station_id": str(scenario.berlin.station_id), "name": "Berlin Hbf",
        "operator_id": str(scenario.berlin.operator_id), "timezone": "Europe/Berlin", "status": "Available",
        "connectors": 2, "sessions": 2, "energy_wh": 30_000,
        "revenue": [{"currency": "EUR", "amount": 1170, "paid_amount": 780}],
        "occupied_seconds": 10_800, "capacity_seconds": 2 * 2 * 86_400, "utilization": None,
        "reservations": 1, "no_shows": 1,
    }  # fmt: skip
    assert berlin["utilization"] == pytest.approx(10_800 / 345_600, abs=1e-4)
    assert new_york["sessions"] == 1
    assert new_york["revenue"] == [{"currency": "USD", "amount": 1500, "paid_amount": 1500}]
    assert new_york["occupied_seconds"] == 7200
    assert new_york["utilization"] == pytest.approx(7200 / 172_800, abs=1e-4)
    # the connector status change stamped after station.created.v1 survives it arriving later
    assert new_york["status"] == "Occupied"


def test_an_active_session_counts_once_it_completes(admin_client, scenario):
    from django.db import transaction

    from evcharge.events import publish

    scenario.n2.ended_at, scenario.n2.energy_wh = scenario.n2.started_at.replace(hour=13), 5000
    with transaction.atomic():
        publish(scenario.n2.completed())

    response = admin_client.get("/api/v1/reports/revenue", {**PERIOD, "currency": "USD", "group_by": "month"})
    # N2 started 07:00 on Feb 1 in New York (N1 still counts on Jan 31)
    assert [(r["period_start"], r["sessions"], r["energy_wh"]) for r in response.json()["results"]] == [
        ("2026-01-31", 1, 30_000),
        ("2026-02-01", 1, 5000),
    ]


def test_refunds_and_voided_invoices_whatever_their_order(admin_client, scenario):
    import uuid

    from django.db import transaction

    from evcharge.contracts.billing import InvoiceVoided, PaymentRefunded
    from evcharge.events import publish

    b1, b2 = scenario.b1, scenario.b2
    with transaction.atomic():
        publish(
            PaymentRefunded(
                payment_id=uuid.uuid4(), invoice_id=b1.invoice_id, user_id=b1.user_id,
                station_id=b1.station.station_id, amount=280, currency="EUR", reason="goodwill",
            )
        )  # fmt: skip
        publish(InvoiceVoided(invoice_id=b2.invoice_id, session_id=b2.session_id, user_id=b2.user_id, reason="test"))
    with transaction.atomic():
        publish(b2.invoice(390))  # a late duplicate of the voided invoice's generation earns nothing

    rows = admin_client.get("/api/v1/reports/revenue", {**PERIOD, "currency": "EUR"}).json()["results"]
    assert [(r["period_start"], r["sessions"], r["revenue_amount"], r["paid_amount"]) for r in rows] == [
        ("2026-01-31", 1, 780, 500),
        ("2026-02-01", 1, 0, 0),
    ]
