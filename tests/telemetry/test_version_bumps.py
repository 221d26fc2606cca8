"""charger.health_changed.v1 carries the charger's health version: each change, whichever path makes it (a
reading, the offline sweep, the OCPP link), one step, in the change's transaction."""

from datetime import timedelta

import pytest
from django.db import transaction

from apps.telemetry import services
from apps.telemetry.models import Charger
from tests.event_order import versions_of
from tests.helpers import run_concurrently
from tests.telemetry.conftest import event, recent

URL = "/api/v1/telemetry/events"


def health_version(charger) -> int:
    return Charger.objects.get(charger_id=charger.charger_id).health_version


def test_every_health_change_publishes_the_next_version(operator_client, charger, outbox, settings):
    settings.TELEMETRY_OFFLINE_AFTER_SECONDS = 300
    seen = recent(30)
    for reading in (
        event(charger, "heartbeat", ts=seen),
        event(charger, "fault", ts=recent(20), error_code="GroundFailure"),
        event(charger, "fault", ts=recent(15), error_code="GroundFailure"),  # faulted already: no change
        event(charger, "status", ts=recent(10), status="Available"),
    ):
        assert operator_client.post(URL, [reading], format="json").status_code == 202
    assert services.charger_health_sweep(now=recent(10) + timedelta(seconds=301)) == 1
    services.charger_link_record(charger_id=charger.charger_id, connected=True, at=recent(0))

    changes = outbox("charger.health_changed.v1")
    assert [c.data.new_health for c in changes] == ["online", "faulted", "online", "offline", "online"]
    assert versions_of(changes) == [1, 2, 3, 4, 5]
    assert health_version(charger) == 5


def test_a_rolled_back_health_change_publishes_nothing_and_bumps_nothing(operator_client, charger, outbox, settings):
    settings.TELEMETRY_OFFLINE_AFTER_SECONDS = 300
    seen = recent(10)
    operator_client.post(URL, [event(charger, "heartbeat", ts=seen)], format="json")
    assert versions_of(outbox("charger.health_changed.v1")) == [1]

    with pytest.raises(RuntimeError), transaction.atomic():
        assert services.charger_health_sweep(now=seen + timedelta(seconds=301)) == 1
        raise RuntimeError("the sweep's transaction fails after the change")

    assert health_version(charger) == 1 and len(outbox("charger.health_changed.v1")) == 1
    assert services.charger_health_sweep(now=seen + timedelta(seconds=301)) == 1
    assert versions_of(outbox("charger.health_changed.v1")) == [1, 2]


@pytest.mark.postgres
def test_concurrent_readings_give_each_health_change_its_own_version(client_for, operator_user, charger, outbox):
    operator_client = client_for(operator_user)
    operator_client.post(URL, [event(charger, "heartbeat", ts=recent(60))], format="json")

    def report(index):
        ts = recent(50 - index)
        reading = (
            event(charger, "fault", ts=ts, error_code="GroundFailure")
            if index % 2 == 0
            else event(charger, "status", ts=ts, status="Available")
        )
        return client_for(operator_user).post(URL, [reading], format="json").status_code

    assert run_concurrently(report, 6) == [202] * 6
    changes = outbox("charger.health_changed.v1")
    assert sorted(versions_of(changes)) == list(range(1, len(changes) + 1))
    assert health_version(charger) == len(changes)
