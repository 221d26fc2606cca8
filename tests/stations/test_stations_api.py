import re
import uuid

import pytest

from apps.stations.models import Charger, Connector, Station
from tests.stations.conftest import BERLIN, NEW_YORK, POTSDAM, connectors_of, payload

CODE = re.compile(r"^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$")


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    errors = body.get("errors", {})
    for field in fields:  # a list's own errors are reported as "<field>.non_field_errors"
        assert field in errors or f"{field}.non_field_errors" in errors, body
    return body


# --- create ---


def test_operator_creates_a_station_with_chargers_and_connectors(operator_client, operator_org, outbox):
    response = operator_client.post("/api/v1/stations", BERLIN, format="json")

    assert response.status_code == 201, response.content
    station = response.json()
    assert station["operator_id"] == str(operator_org.id)
    assert station["status"] == "available"
    assert [c["serial"] for c in station["chargers"]] == ["BER-HPC-1", "BER-AC-1"]
    connectors = connectors_of(station)
    assert [(c["number"], c["type"], c["max_power_kw"]) for c in connectors] == [
        (1, "CCS2", 300.0),
        (2, "CHADEMO", 50.0),
        (1, "TYPE2", 22.0),  # defaults to the charger's power
    ]
    assert all(CODE.match(c["code"]) for c in connectors)
    assert len({c["code"] for c in connectors}) == 3
    assert all(c["status"] == "Available" for c in connectors)
    assert connectors[0]["public_url"] == f"http://localhost:8000/c/{connectors[0]['code']}"
    assert Connector.objects.count() == 3

    (created,) = outbox("station.created.v1")
    data = created.data
    assert created.subject == station["id"]
    assert str(data.station_id) == station["id"] and data.operator_id == operator_org.id
    assert (data.name, data.timezone) == ("Berlin Hbf", "Europe/Berlin")
    assert (data.location.latitude, data.location.longitude) == (52.5251, 13.3694)
    assert [str(c.connector_id) for ch in data.chargers for c in ch.connectors] == [c["id"] for c in connectors]
    assert [c.code for ch in data.chargers for c in ch.connectors] == [c["code"] for c in connectors]
    assert data.chargers[0].max_power_kw == 300.0 and data.enabled is True


def test_admin_must_name_an_existing_operator(admin_client, operator_org):
    assert_problem(admin_client.post("/api/v1/stations", BERLIN, format="json"), 400, "operator_id")
    unknown = payload(BERLIN, operator_id=str(uuid.uuid4()))
    assert_problem(admin_client.post("/api/v1/stations", unknown, format="json"), 400, "operator_id")

    response = admin_client.post("/api/v1/stations", payload(BERLIN, operator_id=str(operator_org.id)), format="json")
    assert response.status_code == 201
    assert response.json()["operator_id"] == str(operator_org.id)


def test_operator_cannot_create_for_another_operator(operator_client, other_operator_org):
    body = payload(BERLIN, operator_id=str(other_operator_org.id))
    assert_problem(operator_client.post("/api/v1/stations", body, format="json"), 403)
    assert not Station.objects.exists()


def test_drivers_and_anonymous_cannot_create(driver_client, anon):
    assert driver_client.post("/api/v1/stations", BERLIN, format="json").status_code == 403
    assert anon.post("/api/v1/stations", BERLIN, format="json").status_code == 401
    assert not Station.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latitude": 91}, "latitude"),
        ({"longitude": -180.5}, "longitude"),
        ({"latitude": "north"}, "latitude"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": ""}, "name"),
        (
            {"chargers": [{"serial": "X", "max_power_kw": 50, "connectors": [{"number": 1, "type": "SCHUKO"}]}]},
            "chargers.0.connectors.0.type",
        ),
        ({"chargers": [{"serial": "X", "max_power_kw": 50, "connectors": []}]}, "chargers.0.connectors"),
        (
            {
                "chargers": [
                    {
                        "serial": "X",
                        "max_power_kw": 50,
                        "connectors": [{"number": 1, "type": "CCS2"}, {"number": 1, "type": "TYPE2"}],
                    }
                ]
            },
            "chargers.0.connectors.1.number",
        ),
        (
            {
                "chargers": [
                    {
                        "serial": "X",
                        "max_power_kw": 50,
                        "connectors": [{"number": 1, "type": "CCS2", "max_power_kw": 60}],
                    }
                ]
            },
            "chargers.0.connectors.0.max_power_kw",
        ),
    ],
)
def test_invalid_stations_are_refused_with_field_errors(operator_client, outbox, change, field):
    response = operator_client.post("/api/v1/stations", payload(BERLIN, **change), format="json")
    assert_problem(response, 400, field)
    assert not Station.objects.exists() and not outbox()


@pytest.mark.parametrize("missing", ["name", "latitude", "longitude", "timezone"])
def test_missing_fields_are_named(operator_client, missing):
    body = payload(BERLIN)
    del body[missing]
    assert_problem(operator_client.post("/api/v1/stations", body, format="json"), 400, missing)


def test_a_taken_serial_conflicts(operator_client, berlin):
    body = payload(POTSDAM, chargers=BERLIN["chargers"][:1])
    assert_problem(operator_client.post("/api/v1/stations", body, format="json"), 409)


# --- list and read ---


@pytest.fixture
def three_stations(operator_client, other_operator_client, create_station):
    return {
        "berlin": create_station(operator_client, BERLIN),
        "potsdam": create_station(operator_client, POTSDAM),
        "nyc": create_station(other_operator_client, NEW_YORK),
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [s["name"] for s in response.json()["results"]]


def test_list_filters(driver_client, three_stations, operator_org, other_operator_org):
    assert names(driver_client.get("/api/v1/stations")) == ["Berlin Hbf", "Hudson Yards", "Potsdam"]
    assert names(driver_client.get("/api/v1/stations", {"operator_id": str(other_operator_org.id)})) == ["Hudson Yards"]
    assert names(driver_client.get("/api/v1/stations", {"connector_type": "TYPE2"})) == ["Berlin Hbf", "Potsdam"]
    assert names(driver_client.get("/api/v1/stations", {"connector_type": "NACS"})) == ["Hudson Yards"]
    assert names(driver_client.get("/api/v1/stations", {"status": "faulted"})) == []
    assert names(driver_client.get("/api/v1/stations", {"status": "available"})) == [
        "Berlin Hbf",
        "Hudson Yards",
        "Potsdam",
    ]
    page = driver_client.get("/api/v1/stations", {"limit": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_list_near_a_point(driver_client, three_stations):
    near_berlin = {"near": "52.52,13.405"}
    assert names(driver_client.get("/api/v1/stations", near_berlin)) == ["Berlin Hbf"]  # default 10 km
    response = driver_client.get("/api/v1/stations", {**near_berlin, "radius_km": 50})
    assert names(response) == ["Berlin Hbf", "Potsdam"]  # nearest first
    distances = [s["distance_km"] for s in response.json()["results"]]
    assert 2 < distances[0] < 3 and 25 < distances[1] < 28
    assert names(driver_client.get("/api/v1/stations", {"near": "40.75,-74.0", "radius_km": 1})) == ["Hudson Yards"]
    assert names(driver_client.get("/api/v1/stations", {"near": "0,0", "radius_km": 100})) == []
    wide = driver_client.get("/api/v1/stations", {"near": "52.52,13.405", "radius_km": 500})
    assert names(wide) == ["Berlin Hbf", "Potsdam"]  # New York is 6,400 km away


@pytest.mark.parametrize(
    "query",
    [
        {"near": "52.52"},
        {"near": "north,east"},
        {"near": "91,13"},
        {"near": "52,181"},
        {"near": "52,13", "radius_km": -1},
        {"near": "52,13", "radius_km": "far"},
        {"near": "52,13", "radius_km": 20000},
        {"near": "52,13", "radius_km": 500.01},
        {"near": "52,13", "radius_km": 2**70},
        {"near": "52,13", "radius_km": "nan"},
        {"near": "52,13", "radius_km": "inf"},
        {"near": "nan,13"},
        {"near": f"{2**70},13"},
        {"operator_id": "not-a-uuid"},
        {"status": "sleeping"},
        {"connector_type": "SCHUKO"},
    ],
)
def test_bad_list_filters_answer_400(driver_client, query):
    response = driver_client.get("/api/v1/stations", query)
    assert_problem(response, 400, list(query)[-1])


def test_near_works_across_the_antimeridian(operator_client, create_station):
    fiji = payload(NEW_YORK, name="Taveuni", latitude=-16.8, longitude=179.95, timezone="Pacific/Fiji")
    create_station(operator_client, fiji)
    assert names(operator_client.get("/api/v1/stations", {"near": "-16.8,-179.95", "radius_km": 20})) == ["Taveuni"]


def test_read_station_and_connector(driver_client, berlin, anon):
    response = driver_client.get(f"/api/v1/stations/{berlin['id']}")
    assert response.status_code == 200 and response.json()["chargers"] == berlin["chargers"]
    assert_problem(driver_client.get(f"/api/v1/stations/{uuid.uuid4()}"), 404)
    assert anon.get(f"/api/v1/stations/{berlin['id']}").status_code == 200  # public to read

    connector = connectors_of(berlin)[1]
    body = driver_client.get(f"/api/v1/connectors/{connector['id']}").json()
    assert (body["id"], body["type"], body["status"], body["code"]) == (
        connector["id"],
        "CHADEMO",
        "Available",
        connector["code"],
    )
    assert body["station"]["id"] == berlin["id"] and body["station"]["name"] == "Berlin Hbf"
    assert body["charger"]["serial"] == "BER-HPC-1"
    assert_problem(driver_client.get(f"/api/v1/connectors/{uuid.uuid4()}"), 404)


def test_by_code_answers_anyone(anon, berlin):
    connector = connectors_of(berlin)[0]
    code = connector["code"]
    response = anon.get(f"/api/v1/connectors/by-code/{code}")
    assert response.status_code == 200
    body = response.json()
    assert body["connector_id"] == connector["id"]
    assert (body["type"], body["max_power_kw"], body["status"]) == ("CCS2", 300.0, "Available")
    assert body["station"]["name"] == "Berlin Hbf" and body["station"]["address"] == "Europaplatz 1, Berlin"
    assert "operator_id" not in body["station"]
    sticker_spelling = f"{code[:4].lower()}-{code[4:].lower()}"
    assert anon.get(f"/api/v1/connectors/by-code/{sticker_spelling}").json()["connector_id"] == connector["id"]
    assert_problem(anon.get("/api/v1/connectors/by-code/ZZZZZZZZ"), 404)


# --- update and add a charger: the operator's own stations only ---


def test_operator_updates_own_station(operator_client, berlin, outbox):
    response = operator_client.patch(
        f"/api/v1/stations/{berlin['id']}", {"name": "Berlin Central", "timezone": "Europe/Berlin"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Berlin Central"
    (updated,) = outbox("station.updated.v1")
    assert updated.data.changed == ["name"] and updated.data.name == "Berlin Central"
    assert len(updated.data.chargers) == 2

    unchanged = operator_client.patch(f"/api/v1/stations/{berlin['id']}", {"name": "Berlin Central"}, format="json")
    assert unchanged.status_code == 200 and len(outbox("station.updated.v1")) == 1


def test_update_validates(operator_client, berlin):
    url = f"/api/v1/stations/{berlin['id']}"
    assert_problem(operator_client.patch(url, {"latitude": -95}, format="json"), 400, "latitude")
    assert_problem(operator_client.patch(url, {"timezone": "Nowhere"}, format="json"), 400, "timezone")
    assert_problem(operator_client.patch(f"/api/v1/stations/{uuid.uuid4()}", {"name": "x"}, format="json"), 404)


def test_only_the_stations_operator_or_an_admin_may_write(
    berlin, other_operator_client, driver_client, admin_client, outbox
):
    station_url = f"/api/v1/stations/{berlin['id']}"
    charger = {"serial": "NEW-1", "max_power_kw": 11, "connectors": [{"number": 1, "type": "TYPE2"}]}
    connector_id = connectors_of(berlin)[0]["id"]

    assert_problem(other_operator_client.patch(station_url, {"name": "Mine"}, format="json"), 403)
    assert_problem(other_operator_client.post(f"{station_url}/chargers", charger, format="json"), 403)
    assert_problem(
        other_operator_client.put(f"/api/v1/connectors/{connector_id}/status", {"status": "Faulted"}, format="json"),
        403,
    )
    assert driver_client.patch(station_url, {"name": "Mine"}, format="json").status_code == 403
    assert driver_client.post(f"{station_url}/chargers", charger, format="json").status_code == 403
    assert (
        driver_client.put(f"/api/v1/connectors/{connector_id}/status", {"status": "Faulted"}, format="json").status_code
        == 403
    )
    assert Station.objects.get().name == "Berlin Hbf" and Charger.objects.count() == 2
    assert Connector.objects.get(id=connector_id).status == "Available"
    assert outbox("station.updated.v1") == [] and outbox("station.status_changed.v1") == []

    assert admin_client.patch(station_url, {"name": "By admin"}, format="json").status_code == 200
    assert admin_client.post(f"{station_url}/chargers", charger, format="json").status_code == 201
    response = admin_client.put(f"/api/v1/connectors/{connector_id}/status", {"status": "Faulted"}, format="json")
    assert response.status_code == 200


def test_operator_adds_a_charger(operator_client, berlin, outbox):
    charger = {
        "serial": "BER-AC-2",
        "max_power_kw": 11,
        "connectors": [{"number": 1, "type": "TYPE2"}, {"number": 2, "type": "GBT", "max_power_kw": 7.4}],
    }
    response = operator_client.post(f"/api/v1/stations/{berlin['id']}/chargers", charger, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["serial"] == "BER-AC-2" and [c["type"] for c in body["connectors"]] == ["TYPE2", "GBT"]
    assert all(CODE.match(c["code"]) for c in body["connectors"])
    (updated,) = outbox("station.updated.v1")
    assert updated.data.changed == ["chargers"]
    assert [c.serial for c in updated.data.chargers] == ["BER-HPC-1", "BER-AC-1", "BER-AC-2"]
    detail = operator_client.get(f"/api/v1/stations/{berlin['id']}").json()
    assert len(connectors_of(detail)) == 5

    again = operator_client.post(f"/api/v1/stations/{berlin['id']}/chargers", charger, format="json")
    assert_problem(again, 409)
    bad = {**charger, "serial": "OTHER", "connectors": [{"number": 0, "type": "TYPE2"}]}
    assert_problem(
        operator_client.post(f"/api/v1/stations/{berlin['id']}/chargers", bad, format="json"),
        400,
        "connectors.0.number",
    )
    assert_problem(operator_client.post(f"/api/v1/stations/{uuid.uuid4()}/chargers", charger, format="json"), 404)


def test_schema_documents_the_stations_routes(anon):
    response = anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    text = response.content.decode()
    for route in ["/api/v1/stations", "/api/v1/connectors/{connector_id}/qr", "/api/v1/connectors/by-code/{code}"]:
        assert route in text
    assert "Derived from the connectors" in text


def test_by_code_lookups_are_throttled(anon, berlin, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"connector_lookup": "3/min"})
    statuses = [anon.get("/api/v1/connectors/by-code/ZZZZZZZZ").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_listing_costs_the_same_few_queries_for_any_number_of_stations(
    driver_client, operator_client, create_station, django_assert_max_num_queries
):
    for index in range(6):
        create_station(
            operator_client,
            POTSDAM,
            name=f"Site {index}",
            chargers=[
                {"serial": f"S-{index}-{n}", "max_power_kw": 22, "connectors": [{"number": 1, "type": "TYPE2"}]}
                for n in range(3)
            ],
        )
    with django_assert_max_num_queries(4):  # count, stations, chargers, connectors
        assert len(driver_client.get("/api/v1/stations").json()["results"]) == 6
    with django_assert_max_num_queries(4):  # count, one page of stations, chargers, connectors
        assert len(driver_client.get("/api/v1/stations", {"near": "52.4,13.0", "radius_km": 30}).json()["results"]) == 6


def test_near_loads_only_one_page_ordered_by_the_database(driver_client, operator_client, create_station):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.stations.selectors import haversine_km

    for index in range(12):
        create_station(
            operator_client,
            POTSDAM,
            name=f"Ring {index:02}",
            latitude=52.0 + index * 0.05,
            longitude=13.0,
            chargers=[{"serial": f"R-{index}", "max_power_kw": 22, "connectors": [{"number": 1, "type": "TYPE2"}]}],
        )
    with CaptureQueriesContext(connection) as queries:
        page = driver_client.get("/api/v1/stations", {"near": "52.0,13.0", "radius_km": 500, "limit": 5}).json()
    assert page["count"] == 12
    assert [s["name"] for s in page["results"]] == [f"Ring {index:02}" for index in range(5)]
    for station in page["results"]:
        assert station["distance_km"] == pytest.approx(
            haversine_km(52.0, 13.0, station["latitude"], station["longitude"]), abs=0.001
        )
    [stations_query] = [
        q["sql"] for q in queries.captured_queries if 'FROM "stations_station"' in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert "LIMIT 5" in stations_query and "ORDER BY" in stations_query
    second = driver_client.get("/api/v1/stations", {"near": "52.0,13.0", "radius_km": 500, "limit": 5, "offset": 10})
    assert [s["name"] for s in second.json()["results"]] == ["Ring 10", "Ring 11"]
