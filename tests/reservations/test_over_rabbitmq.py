"""The same flow with the events travelling through RabbitMQ: the read model is fed asynchronously."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.reservations.models import Connector
from evcharge.contracts.stations import StationStatusChanged
from tests.reservations.conftest import backdate, publish_in_transaction

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


def test_read_model_and_flow_over_rabbitmq(
    bus, driver_client, charger_client, fake_telemetry, station, connector, reserve, start_session, outbox
):
    row = bus.wait_until(lambda: Connector.objects.filter(id=connector.connector_id).first())
    assert row.station_id == station.station_id

    reservation = reserve(driver_client, connector.connector_id, start_in_minutes=2)
    assert reservation.status_code == 201, reservation.content
    fake_telemetry.record(connector.connector_id, 1_000, ts=datetime.now(UTC) - timedelta(hours=1))
    started = start_session(driver_client, connector.connector_id)
    assert started.status_code == 201, started.content
    assert started.json()["reservation_id"] == reservation.json()["id"]
    backdate(started.json()["id"], minutes=10)
    stopped = charger_client.post(
        f"/api/v1/sessions/{started.json()['id']}/stop", {"meter_stop_wh": 4_500}, format="json"
    )
    assert stopped.json()["energy_wh"] == 3_500

    publish_in_transaction(
        StationStatusChanged(
            station_id=station.station_id,
            charger_id=station.chargers[0].charger_id,
            connector_id=connector.connector_id,
            connector_type=connector.type,
            old_status="Available",
            new_status="Faulted",
            changed_at=datetime.now(UTC),
        )
    )
    bus.wait_until(lambda: Connector.objects.get(id=connector.connector_id).status == "Faulted")
    assert start_session(driver_client, connector.connector_id).status_code == 409
    bus.settle()
    mine = [e.type for e in outbox() if e.source == "/evcharge/reservations"]
    assert mine == ["reservation.created.v1", "session.started.v1", "session.stopped.v1", "session.completed.v1"]
