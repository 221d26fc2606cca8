import copy

import pytest

BERLIN = {
    "name": "Berlin Hbf",
    "address": "Europaplatz 1, Berlin",
    "latitude": 52.5251,
    "longitude": 13.3694,
    "timezone": "Europe/Berlin",
    "chargers": [
        {
            "serial": "BER-HPC-1",
            "max_power_kw": 300,
            "connectors": [
                {"number": 1, "type": "CCS2", "max_power_kw": 300},
                {"number": 2, "type": "CHADEMO", "max_power_kw": 50},
            ],
        },
        {"serial": "BER-AC-1", "max_power_kw": 22, "connectors": [{"number": 1, "type": "TYPE2"}]},
    ],
}
POTSDAM = {  # about 26 km from Berlin Hbf
    "name": "Potsdam",
    "latitude": 52.4043,
    "longitude": 13.0385,
    "timezone": "Europe/Berlin",
    "chargers": [{"serial": "POT-AC-1", "max_power_kw": 22, "connectors": [{"number": 1, "type": "TYPE2"}]}],
}
NEW_YORK = {
    "name": "Hudson Yards",
    "latitude": 40.7539,
    "longitude": -74.0014,
    "timezone": "America/New_York",
    "chargers": [{"serial": "NYC-DC-1", "max_power_kw": 250, "connectors": [{"number": 1, "type": "NACS"}]}],
}


def payload(base: dict, **overrides) -> dict:
    body = copy.deepcopy(base)
    body.update(overrides)
    return body


@pytest.fixture
def create_station():
    """create_station(client, base=BERLIN, **overrides) -> the 201 body."""

    def create(client, base: dict = BERLIN, **overrides) -> dict:
        response = client.post("/api/v1/stations", payload(base, **overrides), format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return create


@pytest.fixture
def berlin(operator_client, create_station) -> dict:
    return create_station(operator_client)


def connectors_of(station: dict) -> list[dict]:
    return [connector for charger in station["chargers"] for connector in charger["connectors"]]
