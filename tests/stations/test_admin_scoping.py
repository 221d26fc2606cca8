"""Operator staff in the stations admin: their own stations only, edited through station_update
(checks and station.updated.v1), connector statuses set as themselves."""

import pytest
from django.test import Client

from apps.stations.models import Connector, Station


@pytest.fixture
def staff(operator_user) -> Client:
    browser = Client()
    browser.force_login(operator_user)
    return browser


def station_form(station: Station, **changes) -> dict:
    data = {
        "name": station.name,
        "address": station.address,
        "latitude": str(station.latitude),
        "longitude": str(station.longitude),
        "timezone": station.timezone,
        "chargers-TOTAL_FORMS": "0",
        "chargers-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_operator_staff_edit_their_station_through_the_service(staff, berlin, outbox):
    station = Station.objects.get(id=berlin["id"])
    url = f"/admin/stations/station/{station.id}/change/"
    assert staff.get(url).status_code == 200

    refused = staff.post(url, station_form(station, latitude="91"))
    assert refused.status_code == 200  # the form again, with the service's error
    assert Station.objects.get(id=station.id).latitude == station.latitude

    response = staff.post(url, station_form(station, name="Renamed by its operator"))
    assert response.status_code == 302, response.content.decode()[:3000]
    (updated,) = [e for e in outbox("station.updated.v1") if e.data.name == "Renamed by its operator"]
    assert updated.data.changed == ["name"]


def test_operator_staff_cannot_see_or_touch_another_operators_station(
    staff, other_operator_user, create_station, client_for, outbox
):
    theirs = create_station(client_for(other_operator_user), name="Ampere Yard")
    station = Station.objects.get(id=theirs["id"])
    connector = Connector.objects.filter(charger__station=station).first()
    assert "Ampere Yard" not in staff.get("/admin/stations/station/").content.decode()
    assert "Ampere Yard" not in staff.get("/admin/stations/connector/").content.decode()
    assert staff.get(f"/admin/stations/station/{station.id}/change/").status_code == 404
    assert staff.post(f"/admin/stations/station/{station.id}/change/", station_form(station)).status_code == 404
    assert staff.get(f"/admin/stations/connector/{connector.id}/change/").status_code == 404

    before = len(outbox("station.status_changed.v1"))
    staff.post("/admin/stations/connector/", {"action": "set_faulted", "_selected_action": [str(connector.id)]})
    assert Connector.objects.get(id=connector.id).status == "Available"
    assert len(outbox("station.status_changed.v1")) == before


def test_operator_staff_set_their_connectors_status(staff, berlin, outbox):
    connector = Connector.objects.filter(charger__station_id=berlin["id"]).first()
    response = staff.post(
        "/admin/stations/connector/", {"action": "set_faulted", "_selected_action": [str(connector.id)]}
    )
    assert response.status_code == 302
    assert Connector.objects.get(id=connector.id).status == "Faulted"
    assert [e.data.reason for e in outbox("station.status_changed.v1")] == ["admin"]
