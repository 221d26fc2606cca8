"""Newest-wins read models: a station's life told by its real events (over HTTP, as an operator and its charger
would), then each consuming context's read model rebuilt from those events delivered in reverse order must equal
the one built in order.

`station_history` (a fixture, see `history`) makes the changes and returns the state events published;
`replayed_in_reverse(consumer, events, wipe, snapshot)` empties the context's read model (and its inbox rows), delivers
the events newest first straight to its handlers, and returns the snapshot for comparison."""

from collections.abc import Callable
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


def replayed_in_reverse(
    consumer: str, events: list[EventEnvelope], *, wipe: Callable[[], None], snapshot: Callable[[], Any]
) -> Any:
    with transaction.atomic():
        wipe()
        InboxMessage.objects.filter(consumer=consumer).delete()
    for envelope in reversed(events):
        deliver(envelope, consumer)
    return snapshot()


def versions_of(events: list[EventEnvelope]) -> list[int]:
    return [e.data.version for e in events]
