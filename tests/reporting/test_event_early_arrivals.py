"""A connector's status that arrives before the station's own event lands on a placeholder station dimension: the
older station event arriving later brings the station's data but not an older status."""

from apps.reporting.models import StationDim
from tests.event_order import history
from tests.event_prefixes import moments_that_differ


def dimension(station_id):
    dim = StationDim.objects.filter(station_id=station_id).first()
    if dim is None:
        return None
    statuses = {connector: held[0] for connector, held in dim.connector_statuses.items()}
    return dim.name, dim.enabled, dim.known, dim.connector_count, statuses


def test_every_moment_of_the_history_gives_the_same_dimension_in_reverse(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]

    def wipe():
        StationDim.objects.filter(station_id=station_id).delete()

    assert moments_that_differ("reporting", told.events, wipe=wipe, snapshot=lambda: dimension(station_id)) == []
