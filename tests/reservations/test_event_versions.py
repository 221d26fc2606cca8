"""Reservations' copy of the connectors (station data, statuses, the station's settings, the charger's health) is
the newest whatever order the events arrive in."""

from apps.reservations.models import Connector, StationSettings
from tests.event_order import history, replayed_in_reverse


def snapshot(station_id):
    connectors = sorted(
        (str(c.id), c.station_name, c.status, c.station_enabled, c.charger_health, c.present)
        for c in Connector.objects.filter(station_id=station_id)
    )
    settings = StationSettings.objects.get(station_id=station_id)
    return connectors, settings.enabled, settings.reservable


def test_the_state_events_in_reverse_order_give_the_same_connectors(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]
    in_order = snapshot(station_id)
    assert {c[1] for c in in_order[0]} == {"Harbour Hub East"}
    assert sorted(c[2] for c in in_order[0]) == ["Available", "Preparing"]

    def wipe():
        Connector.objects.filter(station_id=station_id).delete()
        StationSettings.objects.filter(station_id=station_id).delete()

    assert (
        replayed_in_reverse("reservations", told.events, wipe=wipe, snapshot=lambda: snapshot(station_id)) == in_order
    )
