"""The OCPP side follows the newest station settings: an older copy arriving later sends no ChangeAvailability."""

from apps.chargepoints.models import StationAvailability
from tests.event_order import history, replayed_in_reverse


def test_the_settings_in_reverse_order_leave_the_station_enabled(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]

    def snapshot():
        held = StationAvailability.objects.get(station_id=station_id)
        return held.enabled, held.config_version

    newest = told.of("station.config.updated.v1")[-1].data.version
    assert snapshot() == (True, newest)

    def wipe():
        StationAvailability.objects.filter(station_id=station_id).delete()

    assert replayed_in_reverse("chargepoints", told.events, wipe=wipe, snapshot=snapshot) == (True, newest)
