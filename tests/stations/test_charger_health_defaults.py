"""A charger that never reported its health stays usable; an explicit offline or faulted blocks its connectors
for drivers while the connector keeps its own OCPP status; health for a charger stations does not know is ignored."""

import uuid

from evcharge.contracts import stations
from tests.stations.test_ocpp_charger_health import STATION, health


def test_a_charger_that_never_reported_stays_usable(operator_client):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    charger = station["chargers"][0]

    assert charger["health"] == ""
    assert charger["connectors"][0]["status"] == "Available" and station["status"] == "available"
    view = stations.facade().connector(charger["connectors"][0]["id"])
    assert (view.status, view.ocpp_status) == ("Available", "Available")
    assert stations.facade().charger(charger["id"]).serial == "HH-DC-01"
    assert stations.facade().charger(uuid.uuid4()) is None


def test_a_faulted_charger_reads_unavailable_but_keeps_its_connectors_ocpp_status(operator_client):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    charger = station["chargers"][0]

    health(station, charger, "faulted")

    seen = operator_client.get(f"/api/v1/stations/{station['id']}").json()
    assert seen["chargers"][0]["health"] == "faulted" and seen["status"] == "unavailable"
    view = stations.facade().connector(charger["connectors"][0]["id"])
    assert (view.status, view.ocpp_status) == ("Unavailable", "Available")


def test_health_of_a_charger_stations_does_not_know_is_ignored(operator_client):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()

    health(station, {"id": str(uuid.uuid4())}, "offline")

    seen = operator_client.get(f"/api/v1/stations/{station['id']}").json()
    assert seen["status"] == "available" and seen["chargers"][0]["health"] == ""
