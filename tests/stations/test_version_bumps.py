"""A station's version moves one step with each event it publishes, in the transaction of the change: a
rolled-back change publishes nothing and bumps nothing; concurrent changes of one station each get their own."""

import pytest
from django.db import transaction

from apps.stations import services
from apps.stations.models import Station
from evcharge.actor import Actor
from tests.event_order import versions_of
from tests.helpers import run_concurrently
from tests.stations.conftest import connectors_of

STATION_EVENTS = ("station.created.v1", "station.updated.v1", "station.status_changed.v1")


def station_events(outbox):
    return [e for e in outbox() if e.type in STATION_EVENTS]


def test_a_rolled_back_status_change_publishes_nothing_and_bumps_nothing(berlin, operator_user, outbox):
    connector = connectors_of(berlin)[0]
    by = Actor(user_id=operator_user.id, role="operator", operator_id=operator_user.operator_id)
    held = Station.objects.get(id=berlin["id"]).version
    published = len(station_events(outbox))

    with pytest.raises(RuntimeError), transaction.atomic():
        services.connector_set_status(connector_id=connector["id"], status="Faulted", by=by)
        raise RuntimeError("the change's transaction fails after the change")

    assert Station.objects.get(id=berlin["id"]).version == held
    assert len(station_events(outbox)) == published
    services.connector_set_status(connector_id=connector["id"], status="Faulted", by=by)
    assert versions_of(station_events(outbox))[-1] == held + 1 == Station.objects.get(id=berlin["id"]).version


@pytest.mark.postgres
def test_concurrent_changes_of_one_station_each_get_their_own_version(berlin, client_for, operator_user, outbox):
    held = Station.objects.get(id=berlin["id"]).version
    connectors = connectors_of(berlin)

    def change(index):
        client = client_for(operator_user)
        if index == 0:
            response = client.patch(f"/api/v1/stations/{berlin['id']}", {"name": "Berlin Hbf Nord"}, format="json")
        else:
            connector = connectors[index - 1]
            response = client.put(f"/api/v1/connectors/{connector['id']}/status", {"status": "Faulted"}, format="json")
        return response.status_code

    assert run_concurrently(change, 1 + len(connectors)) == [200] * (1 + len(connectors))
    versions = versions_of(station_events(outbox))
    assert sorted(versions) == list(range(1, len(versions) + 1))
    assert len(versions) >= held + 1 + len(connectors)  # at least the rename and each status change
    assert Station.objects.get(id=berlin["id"]).version == max(versions)
