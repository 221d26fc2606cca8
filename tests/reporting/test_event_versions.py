"""Reporting's station dimension (name, connectors' statuses) is the newest whatever order the station's events
arrive in."""

from apps.reporting.models import StationDim
from tests.event_order import history, replayed_in_reverse


def snapshot(station_id):
    dim = StationDim.objects.get(station_id=station_id)
    statuses = {connector: held[0] for connector, held in dim.connector_statuses.items()}
    return dim.name, dim.enabled, dim.connector_count, statuses


def test_the_station_events_in_reverse_order_give_the_same_dimension(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]
    in_order = snapshot(station_id)
    assert in_order[0] == "Harbour Hub East" and sorted(in_order[3].values()) == ["Available", "Preparing"]

    def wipe():
        StationDim.objects.filter(station_id=station_id).delete()

    assert replayed_in_reverse("reporting", told.events, wipe=wipe, snapshot=lambda: snapshot(station_id)) == in_order
