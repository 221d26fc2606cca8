"""Each context that cares reacts to station.config.updated.v1 through its own handler (all over HTTP)."""

from datetime import UTC, datetime, timedelta

STATION = {
    "name": "Harbour Hub",
    "address": "Hafenstraße 1, Hamburg",
    "latitude": 53.54,
    "longitude": 9.99,
    "timezone": "Europe/Berlin",
    "chargers": [
        {"serial": "HH-1", "max_power_kw": 150, "connectors": [{"number": 1, "type": "CCS2", "max_power_kw": 150}]}
    ],
}


def create_station(operator_client) -> dict:
    response = operator_client.post("/api/v1/stations", STATION, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def change_settings(client, station_id, **settings):
    response = client.put(f"/api/v1/admin/stations/{station_id}/settings", settings, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def rate_plan(operator_client, name, energy_price_per_kwh, is_default=False) -> str:
    body = {
        "name": name,
        "currency": "EUR",
        "energy_price_per_kwh": energy_price_per_kwh,
        "time_price_per_min": 0,
        "session_fee": 0,
        "idle_fee_per_min": 0,
        "idle_grace_min": 0,
        "is_default": is_default,
    }
    response = operator_client.post("/api/v1/pricing/rate-plans", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def reserve(driver_client, connector_id):
    starts_at = datetime.now(UTC) + timedelta(hours=1)
    return driver_client.post(
        "/api/v1/reservations",
        {
            "connector_id": connector_id,
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(minutes=30)).isoformat(),
        },
        format="json",
    )


def test_settings_are_seeded_when_the_station_is_created(operator_client):
    station = create_station(operator_client)
    seeded = operator_client.get(f"/api/v1/admin/stations/{station['id']}/settings")
    assert seeded.status_code == 200
    assert seeded.json()["reservable"] is True
    assert seeded.json()["enabled"] is True


def test_a_non_reservable_station_refuses_reservations(operator_client, driver_client):
    station = create_station(operator_client)
    connector_id = station["chargers"][0]["connectors"][0]["id"]

    change_settings(operator_client, station["id"], reservable=False)
    refused = reserve(driver_client, connector_id)
    assert refused.status_code == 409, refused.content
    assert refused["Content-Type"] == "application/problem+json"

    change_settings(operator_client, station["id"], reservable=True)
    assert reserve(driver_client, connector_id).status_code == 201


def test_a_disabled_station_refuses_reservations_and_stations_reflects_it(operator_client, driver_client):
    station = create_station(operator_client)
    connector_id = station["chargers"][0]["connectors"][0]["id"]

    change_settings(operator_client, station["id"], enabled=False)
    assert reserve(driver_client, connector_id).status_code == 409
    shown = driver_client.get(f"/api/v1/stations/{station['id']}").json()
    assert shown["enabled"] is False


def test_an_assigned_rate_plan_is_the_one_the_quote_uses(operator_client, driver_client):
    station = create_station(operator_client)
    default_plan = rate_plan(operator_client, "Standard", 39, is_default=True)
    premium_plan = rate_plan(operator_client, "Harbour premium", 59)
    quote_url = f"/api/v1/pricing/quote?stationId={station['id']}&connectorType=CCS2&kWh=10"

    before = driver_client.get(quote_url).json()
    assert before["rate_plan_id"] == default_plan
    assert before["estimated_total"] == 390

    change_settings(operator_client, station["id"], rate_plan_id=premium_plan)
    after = driver_client.get(quote_url).json()
    assert after["rate_plan_id"] == premium_plan
    assert after["energy_price_per_kwh"] == 59
    assert after["estimated_total"] == 590
