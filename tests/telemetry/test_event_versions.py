"""Telemetry's copy of a station's chargers follows the newest station event whatever order they arrive in."""

from apps.telemetry.models import Charger
from tests.event_order import history, replayed_in_reverse


def snapshot(station_id):
    return sorted((str(c.charger_id), c.station_name, c.serial) for c in Charger.objects.filter(station_id=station_id))


def test_the_station_events_in_reverse_order_give_the_same_chargers(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]
    in_order = snapshot(station_id)
    assert [name for _, name, _ in in_order] == ["Harbour Hub East"]

    def wipe():
        Charger.objects.filter(station_id=station_id).update(station_name="", station_version=0)

    assert replayed_in_reverse("telemetry", told.events, wipe=wipe, snapshot=lambda: snapshot(station_id)) == in_order
