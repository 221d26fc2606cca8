"""Issue 18: a price quote is public, readable without credentials."""

QUOTE = "/api/v1/pricing/quote"


def test_anyone_gets_a_quote_without_credentials(anon, operator_org, announce_station, make_plan):
    station = announce_station(operator_org.id, types=("CCS2",))
    make_plan(operator_org.id, is_default=True, energy_price_per_kwh=39)
    response = anon.get(QUOTE, {"stationId": str(station.id), "connectorType": "CCS2", "kWh": "10"})
    assert response.status_code == 200, response.content
    assert response.json()["energy_price_per_kwh"] == 39


def test_rate_plans_still_need_credentials(anon):
    assert anon.get("/api/v1/pricing/rate-plans").status_code == 401
