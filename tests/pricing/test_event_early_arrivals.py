"""A connector's status that arrives before the station's own event (the station's creation was redelivered
later, say) is kept: the older station event then brings the station but not its older status."""

from apps.pricing.models import KnownStation, StationPlanAssignment
from evcharge.events.dispatch import deliver
from evcharge.events.models import InboxMessage
from tests.event_order import history
from tests.event_prefixes import moments_that_differ


def read_model(station_id):
    station = KnownStation.objects.filter(station_id=station_id, known=True).first()
    plan = StationPlanAssignment.objects.filter(station_id=station_id).values_list("rate_plan_id", flat=True).first()
    if station is None:
        return None, plan
    connectors = sorted((str(c.connector_id), c.type, c.max_power_kw, c.status) for c in station.connectors.all())
    return (station.name, station.enabled, connectors), plan


def test_every_moment_of_the_history_gives_the_same_prices_in_reverse(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]

    def wipe():
        KnownStation.objects.filter(station_id=station_id).delete()
        StationPlanAssignment.objects.filter(station_id=station_id).delete()

    assert moments_that_differ("pricing", told.events, wipe=wipe, snapshot=lambda: read_model(station_id)) == []


def test_a_station_known_only_by_a_status_change_is_not_quoted(operator_client, anon, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]
    KnownStation.objects.filter(station_id=station_id).delete()
    InboxMessage.objects.filter(consumer="pricing").delete()
    status_change = told.of("station.status_changed.v1")[-1]
    deliver(status_change, "pricing")

    quote = anon.get("/api/v1/pricing/quote", {"station_id": station_id, "connector_type": "CCS2", "kWh": 10})
    assert quote.status_code == 400 and "station_id" in quote.json()["errors"], quote.content  # as if unknown
    assert KnownStation.objects.get(station_id=station_id).known is False

    deliver(told.of("station.created.v1")[0], "pricing")  # the creation, redelivered after the newer status
    held = {str(c.connector_id): c.status for c in KnownStation.objects.get(station_id=station_id).connectors.all()}
    assert held[str(status_change.data.connector_id)] == status_change.data.new_status
    quote = anon.get("/api/v1/pricing/quote", {"station_id": station_id, "connector_type": "CCS2", "kWh": 10})
    assert quote.status_code == 200, quote.content
