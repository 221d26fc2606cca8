"""max_power_kw in a station's settings caps the power a quote assumes, and so its estimated duration."""

STATION = {
    "name": "Harbour Hub",
    "address": "Hafenstraße 1, Hamburg",
    "latitude": 53.54,
    "longitude": 9.99,
    "timezone": "Europe/Berlin",
    "chargers": [
        {
            "serial": "HH-1",
            "max_power_kw": 150,
            "connectors": [{"number": 1, "type": "CCS2", "max_power_kw": 150}, {"number": 2, "type": "TYPE2"}],
        }
    ],
}
PLAN = {
    "name": "Standard",
    "currency": "EUR",
    "energy_price_per_kwh": 39,
    "time_price_per_min": 0,
    "session_fee": 0,
    "idle_fee_per_min": 0,
    "idle_grace_min": 0,
    "is_default": True,
}


def test_the_station_power_cap_limits_what_the_quote_assumes(operator_client, driver_client):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    assert operator_client.post("/api/v1/pricing/rate-plans", PLAN, format="json").status_code == 201
    quote_url = f"/api/v1/pricing/quote?stationId={station['id']}&connectorType=CCS2&kWh=20"

    uncapped = driver_client.get(quote_url).json()
    assert (uncapped["max_power_kw"], uncapped["estimated_duration_min"]) == (150.0, 8)  # 20 kWh at 150 kW

    settings_url = f"/api/v1/admin/stations/{station['id']}/settings"
    assert operator_client.put(settings_url, {"max_power_kw": 50}, format="json").status_code == 200
    capped = driver_client.get(quote_url).json()
    assert (capped["max_power_kw"], capped["estimated_duration_min"]) == (50.0, 24)  # 20 kWh at 50 kW
    assert capped["estimated_total"] == uncapped["estimated_total"] == 780  # the energy price does not change

    above_the_connector = operator_client.put(settings_url, {"max_power_kw": 300}, format="json")
    assert above_the_connector.status_code == 200
    assert driver_client.get(quote_url).json()["max_power_kw"] == 150.0  # a cap never raises the power

    slow = driver_client.get(quote_url.replace("CCS2", "TYPE2")).json()
    assert (slow["max_power_kw"], slow["estimated_duration_min"]) == (150.0, 8)  # TYPE2 takes the charger's 150
