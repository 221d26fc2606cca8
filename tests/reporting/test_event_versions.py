"""Reporting's station dimension (name, connectors' statuses) is the newest whatever order the station's events
arrive in."""

from apps.reporting.models import StationDim
from tests.event_order import history, orders_after_creation, replayed, replayed_in_reverse, status_and_renames


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


def test_a_rename_arriving_after_a_newer_status_change_still_renames(operator_client, outbox):
    told = status_and_renames(operator_client, outbox)
    station_id = told.station["id"]
    in_order = snapshot(station_id)
    assert in_order[0] == "Quay Hub South" and sorted(in_order[3].values()) == ["Faulted", "Preparing"]

    def wipe():
        StationDim.objects.filter(station_id=station_id).delete()

    for order in orders_after_creation(told.events):
        assert replayed("reporting", order, wipe=wipe, snapshot=lambda: snapshot(station_id)) == in_order, [
            (e.type, e.data.version) for e in order
        ]
