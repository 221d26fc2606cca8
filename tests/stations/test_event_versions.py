"""The stations context publishes one version sequence per station (created, updated, status changed: each change
one step, in the change's transaction) and applies the settings and the chargers' health it hears of newest-first."""

from apps.stations.models import Charger, Station
from tests.event_order import history, replayed_in_reverse, versions_of


def test_every_station_event_carries_the_next_version_of_its_station(operator_client, outbox):
    told = history(operator_client, outbox)
    station_events = told.of("station.created.v1", "station.updated.v1", "station.status_changed.v1")
    assert versions_of(station_events) == list(range(1, len(station_events) + 1))
    assert Station.objects.get(id=told.station["id"]).version == len(station_events)
    health = versions_of(told.of("charger.health_changed.v1"))
    assert health == list(range(1, len(health) + 1)) and len(health) >= 2


def test_a_rolled_back_change_publishes_nothing_and_bumps_nothing(operator_client, outbox):
    told = history(operator_client, outbox)
    station = Station.objects.get(id=told.station["id"])
    bad = operator_client.patch(f"/api/v1/stations/{station.id}", {"latitude": 123}, format="json")
    assert bad.status_code == 400
    assert Station.objects.get(id=station.id).version == station.version
    assert len(outbox("station.updated.v1")) == len(told.of("station.updated.v1"))


def snapshot(station_id):
    station = Station.objects.get(id=station_id)
    chargers = sorted((str(c.id), c.health) for c in Charger.objects.filter(station_id=station_id))
    return station.enabled, station.reservable, chargers


def test_settings_and_health_in_reverse_order_give_the_same_station(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]
    in_order = snapshot(station_id)
    assert in_order[0] is True  # disabled, then enabled again

    def wipe():  # what the consumed events set, back to a station that never heard of them
        Station.objects.filter(id=station_id).update(enabled=True, reservable=True, config_version=0)
        Charger.objects.filter(station_id=station_id).update(health="", health_changed_at=None, health_version=0)

    assert replayed_in_reverse("stations", told.events, wipe=wipe, snapshot=lambda: snapshot(station_id)) == in_order
