"""Newest-wins read models: a station's life told by its real events (over HTTP, as an operator and its charger
would), then each consuming context's read model rebuilt from those events delivered in reverse order must equal
the one built in order.

`station_history` (a fixture, see `history`) makes the changes and returns the state events published;
`replayed_in_reverse(consumer, events, wipe, snapshot)` empties the context's read model (and its inbox rows), delivers
the events newest first straight to its handlers, and returns the snapshot for comparison.

`status_and_renames` is a shorter life (created, renamed, a status, renamed again, another status) whose events after
the creation `orders_after_creation` shuffles every way: a full-state event (a rename) arriving after a newer
status-only event must still apply what the status event does not carry."""

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from rest_framework.test import APIClient

from evcharge.events.dispatch import deliver
from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import InboxMessage

STATE_EVENTS = (
    "station.created.v1",
    "station.updated.v1",
    "station.status_changed.v1",
    "station.config.updated.v1",
    "charger.health_changed.v1",
)


@dataclass
class History:
    station: dict
    plans: list[str]  # rate plan ids, the last one assigned last
    events: list[EventEnvelope]

    def of(self, *types: str) -> list[EventEnvelope]:
        return [e for e in self.events if e.type in types]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def history(operator_client, outbox) -> History:
    """A station created, renamed twice, its connectors' statuses changed, its settings changed four times (two rate
    plans, disabled then enabled), its charger faulted then cleared: every change publishes one versioned event."""
    plans = []
    for name, price in (("Old plan", 39), ("New plan", 45)):
        plan = operator_client.post(
            "/api/v1/pricing/rate-plans",
            {"name": name, "currency": "EUR", "energy_price_per_kwh": price},
            format="json",
        )
        assert plan.status_code == 201, plan.content
        plans.append(plan.json()["id"])
    created = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Harbour Hub",
            "address": "Hafenstraße 1, Berlin",
            "latitude": 52.52,
            "longitude": 13.405,
            "timezone": "Europe/Berlin",
            "chargers": [
                {
                    "serial": "HH-DC-01",
                    "max_power_kw": 150,
                    "connectors": [{"number": 1, "type": "CCS2"}, {"number": 2, "type": "CHADEMO"}],
                }
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    station = created.json()
    station_url = f"/api/v1/stations/{station['id']}"
    for name in ("Harbour Hub North", "Harbour Hub East"):
        assert operator_client.patch(station_url, {"name": name}, format="json").status_code == 200
    connectors = station["chargers"][0]["connectors"]
    for connector, status in ((connectors[0], "Faulted"), (connectors[0], "Available"), (connectors[1], "Preparing")):
        url = f"/api/v1/connectors/{connector['id']}/status"
        response = operator_client.put(url, {"status": status}, format="json")
        assert response.status_code == 200, response.content
    settings_url = f"/api/v1/admin/stations/{station['id']}/settings"
    for change in ({"rate_plan_id": plans[0]}, {"rate_plan_id": plans[1]}, {"enabled": False}, {"enabled": True}):
        response = operator_client.put(settings_url, change, format="json")
        assert response.status_code == 200, response.content
    issued = operator_client.post("/api/v1/auth/api-keys", {"name": "HH-DC-01 firmware"}, format="json")
    charger_client = APIClient()
    charger_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.json()['key']}")
    now = datetime.now(UTC)
    charger = station["chargers"][0]["id"]
    for offset, reading in (
        (3, {"kind": "heartbeat"}),
        (2, {"kind": "fault", "error_code": "GroundFailure"}),
        (1, {"kind": "status", "status": "Available", "connector_id": connectors[0]["id"]}),
    ):
        body = {"charger_id": charger, "ts": iso(now - timedelta(seconds=offset)), **reading}
        posted = charger_client.post("/api/v1/telemetry/events", [body], format="json")
        assert posted.status_code == 202, posted.content
    events = [e for e in outbox() if e.type in STATE_EVENTS]
    return History(station=station, plans=plans, events=events)


def status_and_renames(operator_client, outbox) -> History:
    """A station created, renamed, one connector Faulted, renamed again, the other connector Preparing: the
    station's events, one version sequence, with status-only events between full-state ones."""
    created = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Quay Hub",
            "address": "Kai 2, Hamburg",
            "latitude": 53.54,
            "longitude": 9.99,
            "timezone": "Europe/Berlin",
            "chargers": [
                {
                    "serial": "QH-AC-01",
                    "max_power_kw": 22,
                    "connectors": [{"number": 1, "type": "TYPE2"}, {"number": 2, "type": "TYPE2"}],
                }
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    station = created.json()
    connectors = station["chargers"][0]["connectors"]

    def rename(name):
        response = operator_client.patch(f"/api/v1/stations/{station['id']}", {"name": name}, format="json")
        assert response.status_code == 200, response.content

    def set_status(connector, status):
        url = f"/api/v1/connectors/{connector['id']}/status"
        response = operator_client.put(url, {"status": status}, format="json")
        assert response.status_code == 200, response.content

    rename("Quay Hub North")
    set_status(connectors[0], "Faulted")
    rename("Quay Hub South")
    set_status(connectors[1], "Preparing")
    events = [e for e in outbox() if e.type in STATE_EVENTS and str(e.data.station_id) == station["id"]]
    assert events[0].type == "station.created.v1"
    return History(station=station, plans=[], events=events)


def orders_after_creation(events: list[EventEnvelope], *, most: int = 40) -> Iterator[list[EventEnvelope]]:
    """The creation first, then the other events in every order (a fixed sample of `most` when there are more)."""
    first, rest = events[0], events[1:]
    orders = list(itertools.permutations(rest))
    if len(orders) > most:
        orders = [tuple(reversed(rest)), *random.Random(16).sample(orders, most - 1)]
    for order in orders:
        yield [first, *order]


def replayed(
    consumer: str, events: list[EventEnvelope], *, wipe: Callable[[], None], snapshot: Callable[[], Any]
) -> Any:
    """The read model built from an empty one by these events, delivered in the order given."""
    with transaction.atomic():
        wipe()
        InboxMessage.objects.filter(consumer=consumer).delete()
    for envelope in events:
        deliver(envelope, consumer)
    return snapshot()


def replayed_in_reverse(
    consumer: str, events: list[EventEnvelope], *, wipe: Callable[[], None], snapshot: Callable[[], Any]
) -> Any:
    return replayed(consumer, list(reversed(events)), wipe=wipe, snapshot=snapshot)


def versions_of(events: list[EventEnvelope]) -> list[int]:
    return [e.data.version for e in events]
