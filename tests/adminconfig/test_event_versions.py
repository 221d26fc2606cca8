"""Adminconfig keeps the station's name from the station's newest event, whatever order they arrive in; and it
publishes the station's settings with a version bumped by one in the transaction of each change."""

import pytest
from django.db import transaction

from apps.adminconfig import services
from apps.adminconfig.models import StationSettings
from evcharge.actor import Actor
from tests.event_order import history, versions_of
from tests.event_prefixes import moments_that_differ
from tests.helpers import run_concurrently

STATION = {
    "name": "Dock Hub",
    "address": "Dock 3, Bremen",
    "latitude": 53.08,
    "longitude": 8.8,
    "timezone": "Europe/Berlin",
    "chargers": [{"serial": "DH-1", "max_power_kw": 50, "connectors": [{"number": 1, "type": "CCS2"}]}],
}


def named(station_id):
    settings = StationSettings.objects.filter(station_id=station_id).first()
    return settings and (settings.station_name, settings.operator_id, settings.station_version)


def test_the_station_name_is_the_newest_whatever_order_its_events_arrive_in(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]
    newest = told.of("station.created.v1", "station.updated.v1")[-1].data.version
    assert named(station_id)[::2] == ("Harbour Hub East", newest)  # renamed twice since its creation

    def wipe():
        StationSettings.objects.filter(station_id=station_id).delete()

    assert moments_that_differ("adminconfig", told.events, wipe=wipe, snapshot=lambda: named(station_id)) == []


def test_a_rename_arriving_before_the_creation_seeds_the_settings_with_the_new_name(operator_client, outbox):
    from evcharge.events.dispatch import deliver
    from evcharge.events.models import InboxMessage

    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    renamed = operator_client.patch(f"/api/v1/stations/{station['id']}", {"name": "Dock Hub West"}, format="json")
    assert renamed.status_code == 200
    StationSettings.objects.filter(station_id=station["id"]).delete()
    InboxMessage.objects.filter(consumer="adminconfig").delete()

    deliver(outbox("station.updated.v1")[-1], "adminconfig")
    deliver(outbox("station.created.v1")[-1], "adminconfig")
    settings = StationSettings.objects.get(station_id=station["id"])
    assert (settings.station_name, settings.station_version, settings.enabled) == ("Dock Hub West", 2, True)


def put_settings(client, station_id, **changes):
    response = client.put(f"/api/v1/admin/stations/{station_id}/settings", changes, format="json")
    assert response.status_code == 200, response.content


def test_each_settings_change_publishes_the_next_version_and_no_change_publishes_none(operator_client, outbox):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    held = StationSettings.objects.get(station_id=station["id"]).version
    put_settings(operator_client, station["id"], enabled=False)
    put_settings(operator_client, station["id"], enabled=False)  # the same value: no change
    put_settings(operator_client, station["id"], reservable=False, max_power_kw=22)
    put_settings(operator_client, station["id"], enabled=True)

    published = outbox("station.config.updated.v1")
    assert versions_of(published) == [held + 1, held + 2, held + 3]
    assert [e.data.changed for e in published] == [["enabled"], ["reservable", "max_power_kw"], ["enabled"]]
    assert StationSettings.objects.get(station_id=station["id"]).version == held + 3


def test_a_rolled_back_settings_change_publishes_nothing_and_bumps_nothing(operator_client, operator_user, outbox):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    held = StationSettings.objects.get(station_id=station["id"]).version
    by = Actor(user_id=operator_user.id, role="operator", operator_id=operator_user.operator_id)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.station_settings_update(station_id=station["id"], by=by, changes={"enabled": False})
        raise RuntimeError("the change's transaction fails after the change")

    assert StationSettings.objects.get(station_id=station["id"]).version == held
    assert outbox("station.config.updated.v1") == []
    put_settings(operator_client, station["id"], enabled=False)
    assert versions_of(outbox("station.config.updated.v1")) == [held + 1]


@pytest.mark.postgres
def test_concurrent_settings_changes_each_get_their_own_version(operator_client, client_for, operator_user, outbox):
    station = operator_client.post("/api/v1/stations", STATION, format="json").json()
    held = StationSettings.objects.get(station_id=station["id"]).version

    def change(index):
        response = client_for(operator_user).put(
            f"/api/v1/admin/stations/{station['id']}/settings", {"idle_grace_min": index + 1}, format="json"
        )
        return response.status_code

    assert run_concurrently(change, 4) == [200] * 4
    published = outbox("station.config.updated.v1")
    assert sorted(versions_of(published)) == [held + 1, held + 2, held + 3, held + 4]
    newest = max(published, key=lambda e: e.data.version)
    assert StationSettings.objects.get(station_id=station["id"]).idle_grace_min == newest.data.settings.idle_grace_min
