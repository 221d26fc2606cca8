"""Who sees what, bad parameters, and ?format=csv."""

import csv
import io
import uuid

import pytest

PERIOD = {"from": "2026-01-31", "to": "2026-02-01"}
REPORTS = ["stations", "revenue", "utilization"]


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_an_operator_sees_only_their_own_stations(operator_client, other_operator_client, scenario):
    stations = operator_client.get("/api/v1/reports/stations", PERIOD).json()["results"]
    revenue = operator_client.get("/api/v1/reports/revenue", PERIOD).json()["results"]
    other = other_operator_client.get("/api/v1/reports/revenue", PERIOD).json()["results"]
    utilization = operator_client.get("/api/v1/reports/utilization", PERIOD).json()["results"]

    assert [s["name"] for s in stations] == ["Berlin Hbf"]
    assert {r["currency"] for r in revenue} == {"EUR"}
    assert [(r["currency"], r["revenue_amount"]) for r in other] == [("USD", 1500)]
    assert [r["capacity_seconds"] for r in utilization] == [2 * 86_400, 2 * 86_400]


def test_an_operator_asking_for_another_operators_station_gets_404(operator_client, scenario):
    for report in REPORTS:
        response = operator_client.get(f"/api/v1/reports/{report}", {"station_id": scenario.new_york.station_id})
        assert response.status_code == 404, report


def test_an_operator_cannot_widen_the_scope_with_operator_id(operator_client, scenario):
    response = operator_client.get("/api/v1/reports/stations", {**PERIOD, "operator_id": scenario.new_york.operator_id})
    assert [s["name"] for s in response.json()["results"]] == ["Berlin Hbf"]


def test_an_admin_may_narrow_to_one_operator(admin_client, scenario):
    response = admin_client.get("/api/v1/reports/stations", {**PERIOD, "operator_id": scenario.new_york.operator_id})
    assert [s["name"] for s in response.json()["results"]] == ["NY Midtown"]


@pytest.mark.parametrize("report", REPORTS)
def test_drivers_are_refused_and_strangers_must_authenticate(driver_client, anon, report):
    assert driver_client.get(f"/api/v1/reports/{report}").status_code == 403
    assert anon.get(f"/api/v1/reports/{report}").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "year"}, "group_by"),
        ({"from": "2026-02-02", "to": "2026-02-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"station_id": "not-a-uuid"}, "station_id"),
        ({"currency": "ABC"}, "currency"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_parameters_answer_400_problem_json(admin_client, params, field):
    response = admin_client.get("/api/v1/reports/revenue", params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


def test_an_unknown_station_is_404(admin_client):
    assert admin_client.get("/api/v1/reports/revenue", {"station_id": uuid.uuid4()}).status_code == 404


def test_stations_csv(admin_client, scenario):
    rows = csv_rows(admin_client.get("/api/v1/reports/stations", {**PERIOD, "format": "csv"}))

    assert [r["name"] for r in rows] == ["Berlin Hbf", "NY Midtown"]
    berlin, new_york = rows
    assert berlin["sessions"] == "2" and berlin["energy_wh"] == "30000"
    assert (berlin["revenue_EUR"], berlin["paid_EUR"], berlin["revenue_USD"]) == ("1170", "780", "0")
    assert (new_york["revenue_USD"], new_york["paid_USD"]) == ("1500", "1500")
    assert new_york["operator_id"] == str(scenario.new_york.operator_id)


def test_revenue_csv_matches_the_json(admin_client, scenario):
    as_json = admin_client.get("/api/v1/reports/revenue", PERIOD).json()["results"]
    response = admin_client.get("/api/v1/reports/revenue", {**PERIOD, "format": "csv"})

    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert list(rows[0]) == [
        "period_start", "period_end", "currency", "sessions", "energy_wh", "revenue_amount", "paid_amount"
    ]  # fmt: skip
    assert rows == [{key: str(value) for key, value in row.items()} for row in as_json]


def test_utilization_csv_for_one_station(operator_client, scenario):
    rows = csv_rows(
        operator_client.get(
            "/api/v1/reports/utilization", {**PERIOD, "station_id": scenario.berlin.station_id, "format": "csv"}
        )
    )
    assert [(r["period_start"], r["occupied_seconds"], r["utilization"]) for r in rows] == [
        ("2026-01-31", "1800", "0.0104"),
        ("2026-02-01", "9000", "0.0521"),
    ]


def test_csv_errors_are_still_problem_json(admin_client):
    response = admin_client.get("/api/v1/reports/revenue", {"group_by": "year", "format": "csv"})
    assert response.status_code == 400
    assert response.json()["errors"]["group_by"]


def test_the_reports_are_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/reports/stations", "/api/v1/reports/revenue", "/api/v1/reports/utilization"} <= set(
        schema["paths"]
    )
