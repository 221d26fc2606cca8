"""A charger's health (charger.health_changed.v1) and its OCPP link on the station: connectors of an offline
charger read Unavailable; the link is shown to the station's operator and admins only."""

from datetime import UTC, datetime, timedelta

from django.db import transaction

from apps.chargepoints.models import ChargeBox
from evcharge.contracts import stations
from evcharge.contracts.telemetry import ChargerHealthChanged
from evcharge.events import publish

STATION = {
    "name": "Harbour Hub",
    "address": "Hafenstraße 1, Berlin",
    "latitude": 52.52,
    "longitude": 13.405,
    "timezone": "Europe/Berlin",
    "chargers": [{"serial": "HH-DC-01", "max_power_kw": 150, "connectors": [{"number": 1, "type": "CCS2"}]}],
}


def health(station, charger, new, *, minutes_ago=0):
    with transaction.atomic():
        publish(
            ChargerHealthChanged(
                charger_id=charger["id"],
                station_id=station["id"],
                old_health="online",
                new_health=new,
                reason="test",
                changed_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            )
        )


def test_an_offline_charger_shows_its_connectors_unavailable_until_it_is_back(operator_client):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    charger = station["chargers"][0]

    health(station, charger, "offline", minutes_ago=1)
    health(station, charger, "online", minutes_ago=10)  # older, arriving late: ignored

    seen = operator_client.get(f"/api/v1/stations/{station['id']}").json()
    assert seen["chargers"][0]["health"] == "offline"
    assert seen["chargers"][0]["connectors"][0]["status"] == "Unavailable"
    assert seen["status"] == "unavailable"
    assert stations.facade().connector(charger["connectors"][0]["id"]).status == "Unavailable"

    health(station, charger, "online")
    back = operator_client.get(f"/api/v1/stations/{station['id']}").json()
    assert back["chargers"][0]["connectors"][0]["status"] == "Available" and back["status"] == "available"


def test_the_gateway_finds_a_charger_by_its_serial(operator_client):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()

    found = stations.facade().charger_by_serial("HH-DC-01")

    assert str(found.charger_id) == station["chargers"][0]["id"] and str(found.station_id) == station["id"]
    assert [c.number for c in found.connectors] == [1]
    assert stations.facade().charger_by_serial("NOPE") is None
    assert [c.serial for c in stations.facade().chargers_of_station(found.station_id)] == ["HH-DC-01"]


def test_the_ocpp_link_is_shown_to_the_stations_operator_only(operator_client, other_operator_client, operator_org):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    charger = station["chargers"][0]
    assert operator_client.get(f"/api/v1/stations/{station['id']}").json()["chargers"][0]["ocpp"] is None

    ChargeBox.objects.create(
        id=charger["id"],
        charge_box_id="HH-DC-01",
        station_id=station["id"],
        operator_id=operator_org.id,
        connected=True,
        last_seen_at=datetime.now(UTC),
        vendor="Alfen",
        model="Eve",
        firmware_version="6.1",
        protocol="ocpp1.6",
    )

    link = operator_client.get(f"/api/v1/stations/{station['id']}").json()["chargers"][0]["ocpp"]
    assert (link["connected"], link["vendor"], link["protocol"]) == (True, "Alfen", "ocpp1.6")
    other = other_operator_client.get(f"/api/v1/stations/{station['id']}")
    assert other.status_code == 404 or other.json()["chargers"][0]["ocpp"] is None
