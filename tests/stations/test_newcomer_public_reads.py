"""Issue 18, points 5 and 14: what is public is readable without credentials; writes still need them."""

from tests.stations.conftest import connectors_of


def test_anyone_lists_stations_and_reads_one_without_credentials(anon, berlin):
    listed = anon.get("/api/v1/stations")
    assert listed.status_code == 200, listed.content
    assert [station["id"] for station in listed.json()["results"]] == [berlin["id"]]
    detail = anon.get(f"/api/v1/stations/{berlin['id']}")
    assert detail.status_code == 200, detail.content
    assert detail.json()["name"] == "Berlin Hbf"


def test_anyone_searches_stations_near_a_place(anon, berlin):
    response = anon.get("/api/v1/stations", {"near": "52.52,13.37", "radius_km": 5})
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["distance_km"] is not None


def test_an_anonymous_reader_sees_no_operator_only_ocpp_link(anon, berlin):
    detail = anon.get(f"/api/v1/stations/{berlin['id']}").json()
    assert all(charger["ocpp"] is None for charger in detail["chargers"])


def test_anyone_gets_a_connectors_qr_image_and_its_code_lookup(anon, berlin):
    connector = connectors_of(berlin)[0]
    image = anon.get(f"/api/v1/connectors/{connector['id']}/qr")
    assert image.status_code == 200, image.content
    assert image["Content-Type"] == "image/png"
    assert anon.get(f"/api/v1/connectors/{connector['id']}/qr", {"format": "svg"}).status_code == 200
    assert anon.get(f"/api/v1/connectors/by-code/{connector['code']}").status_code == 200


def test_another_operators_qr_is_readable_too_it_only_encodes_a_public_url(other_operator_client, berlin):
    connector = connectors_of(berlin)[0]
    assert other_operator_client.get(f"/api/v1/connectors/{connector['id']}/qr").status_code == 200


def test_writes_still_need_credentials(anon, berlin):
    from tests.stations.conftest import BERLIN

    created = anon.post("/api/v1/stations", BERLIN, format="json")
    assert created.status_code == 401
    assert created.json()["code"] == "not_authenticated"
    patched = anon.patch(f"/api/v1/stations/{berlin['id']}", {"name": "Mine now"}, format="json")
    assert patched.status_code == 401


def test_a_driver_still_may_not_create_a_station(driver_client):
    from tests.stations.conftest import BERLIN

    assert driver_client.post("/api/v1/stations", BERLIN, format="json").status_code == 403
