"""A connector's status or its charger's health that arrives before the station's own event (its creation
redelivered later, say) is kept until that event brings the connector: the older event does not bring back an
older status, and the charger is not left faulted by an older health change arriving after the newest."""

from apps.reservations.models import ChargerHealth, Connector, ConnectorStatusAhead, StationSettings
from evcharge.events.dispatch import deliver
from evcharge.events.models import InboxMessage
from tests.event_order import history
from tests.event_prefixes import moments_that_differ


def read_model(station_id):
    connectors = sorted(
        (str(c.id), c.station_name, c.status, c.station_enabled, c.charger_health, c.present)
        for c in Connector.objects.filter(station_id=station_id)
    )
    settings = StationSettings.objects.filter(station_id=station_id).values_list("enabled", "reservable").first()
    return connectors, settings


def forget(station_id, charger_id):
    Connector.objects.filter(station_id=station_id).delete()
    StationSettings.objects.filter(station_id=station_id).delete()
    ChargerHealth.objects.filter(charger_id=charger_id).delete()
    ConnectorStatusAhead.objects.all().delete()


def test_every_moment_of_the_history_gives_the_same_connectors_in_reverse(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id, charger_id = told.station["id"], told.station["chargers"][0]["id"]

    def wipe():
        forget(station_id, charger_id)

    assert moments_that_differ("reservations", told.events, wipe=wipe, snapshot=lambda: read_model(station_id)) == []
    assert ConnectorStatusAhead.objects.count() == 0  # each taken by the connector it was waiting for


def test_the_newest_health_arriving_before_the_station_leaves_the_charger_reachable(operator_client, outbox):
    told = history(operator_client, outbox)
    station_id, charger_id = told.station["id"], told.station["chargers"][0]["id"]
    forget(station_id, charger_id)
    InboxMessage.objects.filter(consumer="reservations").delete()
    faulted, cleared = told.of("charger.health_changed.v1")[-2:]
    assert (faulted.data.new_health, cleared.data.new_health) == ("faulted", "online")

    deliver(cleared, "reservations")  # before the station's own event: no connector to carry it yet
    deliver(told.of("station.created.v1")[0], "reservations")
    deliver(faulted, "reservations")  # older, arriving last

    connectors = Connector.objects.filter(station_id=station_id)
    assert {c.charger_health for c in connectors} == {"online"}
    assert not any(c.charger_unreachable for c in connectors)
