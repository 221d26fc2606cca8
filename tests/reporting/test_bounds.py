"""Absurd query values answer 400 problem+json (never 500), and the stations report reads one page."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from evcharge.events import publish
from tests.reporting.scenario import Station

REPORTS = ["stations", "revenue", "utilization"]
BIG = str(2**70)


@pytest.mark.parametrize("report", REPORTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "99999-01-01"}, "from"),
        ({"to": "99999-12-31"}, "to"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, "to"),
        ({"to": "0001-01-01"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"from": BIG}, "from"),
        ({"station_id": BIG}, "station_id"),
        ({"station_id": "1' OR '1'='1"}, "station_id"),
        ({"operator_id": "not-a-uuid"}, "operator_id"),
        ({"group_by": "x" * 10_000}, "group_by"),
        ({"currency": "E" * 10_000}, "currency"),
    ],
)
def test_absurd_values_are_400(admin_client, report, params, field):
    response = admin_client.get(f"/api/v1/reports/{report}", params)

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": BIG}, "limit"), ({"limit": "null"}, "limit"), ({"offset": "-5"}, "offset"), ({"limit": "0"}, "limit")],
)
def test_bad_paging_is_400(admin_client, params, field):
    response = admin_client.get("/api/v1/reports/stations", params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_latest_and_earliest_days_a_report_covers(admin_client):
    for params in ({"from": "2000-01-01", "to": "2000-01-31"}, {"from": "2199-12-01", "to": "2199-12-31"}):
        for report in REPORTS:
            assert admin_client.get(f"/api/v1/reports/{report}", params).status_code == 200, (report, params)


@pytest.mark.parametrize(
    "params", [{"start": "9999-12-31", "end": "9999-12-31"}, {"start": "0001-01-01", "end": "0001-01-01"}]
)
def test_the_dashboard_refuses_days_out_of_range(client, admin_user, params):
    client.force_login(admin_user)
    assert client.get("/reports/dashboard", params).status_code == 400


def test_the_stations_report_reads_only_the_page_asked_for(admin_client, reporting_only, operator_org):
    with transaction.atomic():
        for number in range(12):
            publish(Station(operator_org.id, f"Station {number:02d}", "UTC", connectors=1).created())

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/api/v1/reports/stations", {"limit": 5, "offset": 5})

    body = response.json()
    assert body["count"] == 12
    assert [s["name"] for s in body["results"]] == [f"Station {n:02d}" for n in range(5, 10)]
    station_reads = [q["sql"] for q in queries.captured_queries if 'FROM "reporting_stationdim"' in q["sql"]]
    assert station_reads and all("LIMIT" in sql or "COUNT(" in sql for sql in station_reads), station_reads


def test_the_csv_export_streams_every_station(admin_client, reporting_only, operator_org, monkeypatch):
    import csv
    import io

    from apps.reporting.api import views

    monkeypatch.setattr(views, "CSV_CHUNK_STATIONS", 5)
    with transaction.atomic():
        for number in range(12):
            publish(Station(operator_org.id, f"Station {number:02d}", "UTC", connectors=1).created())

    response = admin_client.get("/api/v1/reports/stations", {"format": "csv"})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["name"] for r in rows] == [f"Station {n:02d}" for n in range(12)]
