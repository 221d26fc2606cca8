"""Pricing's read model of stations (names, connectors' statuses, the settings' rate plan) is the newest whatever
order the events arrive in: each carries its aggregate's version and an older one changes nothing."""

from apps.pricing.models import KnownStation, StationPlanAssignment
from tests.event_order import (
    history,
    orders_after_creation,
    replayed,
    replayed_in_reverse,
    status_and_renames,
    versions_of,
)


def snapshot(station_id):
    station = KnownStation.objects.get(station_id=station_id)
    plan = StationPlanAssignment.objects.get(station_id=station_id)
    connectors = sorted((str(c.connector_id), c.status) for c in station.connectors.all())
    return station.name, station.enabled, connectors, str(plan.rate_plan_id)


def test_the_station_events_and_its_settings_in_reverse_order_give_the_same_prices(operator_client, anon, outbox):
    told = history(operator_client, outbox)
    station_id = told.station["id"]
    in_order = snapshot(station_id)
    assert in_order[0] == "Harbour Hub East" and in_order[3] == told.plans[1]
    versions = versions_of(told.of("station.config.updated.v1"))
    assert versions == list(range(versions[0], versions[0] + 4))  # one step per change

    def wipe():
        KnownStation.objects.filter(station_id=station_id).delete()
        StationPlanAssignment.objects.filter(station_id=station_id).delete()

    assert replayed_in_reverse("pricing", told.events, wipe=wipe, snapshot=lambda: snapshot(station_id)) == in_order
    quote = anon.get("/api/v1/pricing/quote", {"station_id": station_id, "connector_type": "CCS2", "kWh": 10}).json()
    assert quote["energy_price_per_kwh"] == 45  # the newest plan's price, not the older config's


def test_an_older_station_config_arriving_last_does_not_win(operator_client, outbox):
    """The reproduced bug: the older settings (the old rate plan) delivered after the newer ones."""
    from evcharge.events.dispatch import deliver
    from evcharge.events.models import InboxMessage

    told = history(operator_client, outbox)
    station_id = told.station["id"]
    first_plan, second_plan = told.of("station.config.updated.v1")[:2]
    InboxMessage.objects.filter(consumer="pricing", event_id=first_plan.id).delete()
    deliver(first_plan, "pricing")  # the first config again, after all the others: a late redelivery
    assert str(StationPlanAssignment.objects.get(station_id=station_id).rate_plan_id) == told.plans[1]
    assert StationPlanAssignment.objects.get(station_id=station_id).config_version == second_plan.data.version + 2


def station_of(station_id):
    station = KnownStation.objects.get(station_id=station_id)
    return station.name, sorted((str(c.connector_id), c.status) for c in station.connectors.all())


def test_a_rename_arriving_after_a_newer_status_change_still_renames(operator_client, outbox):
    told = status_and_renames(operator_client, outbox)
    station_id = told.station["id"]
    in_order = station_of(station_id)
    assert in_order[0] == "Quay Hub South" and sorted(s for _, s in in_order[1]) == ["Faulted", "Preparing"]

    def wipe():
        KnownStation.objects.filter(station_id=station_id).delete()

    for order in orders_after_creation(told.events):
        assert replayed("pricing", order, wipe=wipe, snapshot=lambda: station_of(station_id)) == in_order, [
            (e.type, e.data.version) for e in order
        ]
