"""Reservations' copy of the connectors (station data, statuses, the station's settings, the charger's health) is
the newest whatever order the events arrive in."""

import uuid
from datetime import timedelta

from apps.reservations.models import Connector, StationSettings
from evcharge.events.dispatch import deliver
from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import InboxMessage
from tests.event_order import (
    history,
    iso,
    orders_after_creation,
    replayed,
    replayed_in_reverse,
    status_and_renames,
)


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


def connectors_of(station_id):
    return sorted(
        (str(c.id), c.station_name, c.status, c.present) for c in Connector.objects.filter(station_id=station_id)
    )


def test_a_rename_arriving_after_a_newer_status_change_still_renames(operator_client, outbox):
    told = status_and_renames(operator_client, outbox)
    station_id = told.station["id"]
    in_order = connectors_of(station_id)
    assert {c[1] for c in in_order} == {"Quay Hub South"} and sorted(c[2] for c in in_order) == [
        "Faulted",
        "Preparing",
    ]

    def wipe():
        Connector.objects.filter(station_id=station_id).delete()

    for order in orders_after_creation(told.events):
        assert replayed("reservations", order, wipe=wipe, snapshot=lambda: connectors_of(station_id)) == in_order, [
            (e.type, e.data.version) for e in order
        ]


def test_a_health_change_from_before_versions_applies_by_time_and_keeps_the_version_held(operator_client, outbox):
    """A message queued before versions existed has no `version`: it applies by time, and an older versioned copy
    arriving after it still changes nothing."""
    told = history(operator_client, outbox)
    charger_id = told.station["chargers"][0]["id"]
    first, *_, newest = told.of("charger.health_changed.v1")
    held = Connector.objects.filter(charger_id=charger_id)
    assert {(c.charger_health, c.charger_health_version) for c in held} == {
        (newest.data.new_health, newest.data.version)
    }

    body = newest.to_dict()
    body["id"] = str(uuid.uuid4())
    del body["data"]["version"]
    body["data"].update(new_health="offline", changed_at=iso(newest.data.changed_at + timedelta(seconds=1)))
    unversioned = EventEnvelope.from_dict(body)
    assert unversioned.data.version == 0
    deliver(unversioned, "reservations")
    assert {(c.charger_health, c.charger_health_version) for c in held.all()} == {("offline", newest.data.version)}

    InboxMessage.objects.filter(consumer="reservations", event_id=first.id).delete()
    deliver(first, "reservations")  # the oldest health change again, late
    assert {c.charger_health for c in held.all()} == {"offline"}
