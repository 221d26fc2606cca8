import uuid
from datetime import timedelta

import pytest
from django.db import transaction

from apps.telemetry import services
from apps.telemetry.models import LatestState
from evcharge.contracts import telemetry as telemetry_contract
from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, StationUpdated
from evcharge.events import publish
from tests.helpers import run_concurrently
from tests.telemetry.conftest import event, meter, now_utc, recent

URL = "/api/v1/telemetry/events"


def latest_url(station_id) -> str:
    return f"/api/v1/telemetry/stations/{station_id}/latest"


def test_any_user_sees_the_latest_reading_and_health(operator_client, driver_client, station, charger):
    t0 = recent(60)
    connector = charger.connectors[0]
    operator_client.post(
        URL,
        [
            meter(charger, ts=t0, energy_wh=1000, power_w=7000),
            meter(charger, ts=t0 + timedelta(seconds=20), energy_wh=1100, power_w=7400.4, soc_pct=55),
            event(
                charger,
                "status",
                ts=t0 + timedelta(seconds=5),
                connector_id=str(connector.connector_id),
                status="Charging",
            ),
            event(charger, "heartbeat", ts=t0 + timedelta(seconds=30)),
        ],
        format="json",
    )

    response = driver_client.get(latest_url(station.station_id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["station_id"] == str(station.station_id)
    (charger_out,) = body["chargers"]
    assert charger_out["charger_id"] == str(charger.charger_id)
    assert charger_out["health"] == "online"
    assert charger_out["latest"]["last_ts"].startswith((t0 + timedelta(seconds=30)).isoformat()[:19])
    connector_out = charger_out["connectors"][0]
    assert connector_out["connector_id"] == str(connector.connector_id)
    assert connector_out["latest"]["meter"]["energy_wh"] == 1100
    assert connector_out["latest"]["meter"]["power_w"] == 7400
    assert connector_out["latest"]["meter"]["soc_pct"] == 55
    assert connector_out["latest"]["status"] == "Charging"
    assert charger_out["connectors"][1]["latest"] is None


def test_latest_of_an_unknown_station_is_404(driver_client, anon):
    missing = "/api/v1/telemetry/stations/6f1f9f4e-0000-4000-8000-000000000001/latest"
    assert driver_client.get(missing).status_code == 404
    assert anon.get(missing).status_code == 401


def test_the_facade_returns_the_newest_meter_reading_even_when_posted_late(operator_client, charger):
    connector = charger.connectors[0]
    facade = telemetry_contract.facade()
    assert facade.last_meter_reading(connector_id=connector.connector_id) is None
    t0 = recent(100)

    operator_client.post(
        URL, [meter(charger, ts=t0 + timedelta(seconds=50), energy_wh=5000, power_w=22000)], format="json"
    )
    operator_client.post(URL, [meter(charger, ts=t0, energy_wh=4000)], format="json")  # older, arrives later
    operator_client.post(URL, [event(charger, "heartbeat", ts=t0 + timedelta(seconds=60))], format="json")

    reading = facade.last_meter_reading(connector_id=connector.connector_id)
    assert reading is not None
    assert (reading.energy_wh, reading.ts, reading.power_w) == (5000, t0 + timedelta(seconds=50), 22000)
    assert reading.connector_id == connector.connector_id


def test_first_contact_brings_a_charger_online_once(operator_client, charger, outbox):
    operator_client.post(URL, [event(charger, "heartbeat", ts=recent(20))], format="json")
    operator_client.post(URL, [event(charger, "heartbeat", ts=recent(10))], format="json")

    changes = outbox("charger.health_changed.v1")
    assert [(c.data.old_health, c.data.new_health) for c in changes] == [("offline", "online")]


def test_a_fault_publishes_one_health_change_and_a_status_clears_it(operator_client, charger, station, outbox):
    operator_client.post(URL, [event(charger, "heartbeat", ts=recent(40))], format="json")
    fault = event(charger, "fault", ts=recent(30), error_code="GroundFailure")

    first = operator_client.post(URL, [fault, event(charger, "heartbeat", ts=recent(29))], format="json")
    operator_client.post(URL, [event(charger, "fault", ts=recent(25), error_code="GroundFailure")], format="json")
    operator_client.post(URL, [event(charger, "heartbeat", ts=recent(20))], format="json")

    assert first.status_code == 202
    changes = [c.data for c in outbox("charger.health_changed.v1")]
    assert [(c.old_health, c.new_health) for c in changes] == [("offline", "online"), ("online", "faulted")]
    assert changes[1].reason == "fault GroundFailure"
    assert changes[1].station_id == station.station_id

    operator_client.post(URL, [event(charger, "status", ts=recent(10), status="Available")], format="json")

    changes = [c.data for c in outbox("charger.health_changed.v1")]
    assert (changes[-1].old_health, changes[-1].new_health) == ("faulted", "online")
    assert len(changes) == 3


def test_a_faulted_status_faults_the_charger(operator_client, charger, outbox):
    connector = charger.connectors[0]
    operator_client.post(
        URL,
        [event(charger, "status", ts=recent(10), connector_id=str(connector.connector_id), status="Faulted")],
        format="json",
    )
    assert [c.data.new_health for c in outbox("charger.health_changed.v1")] == ["faulted"]


def test_a_silent_charger_goes_offline_once(operator_client, charger, outbox, settings):
    settings.TELEMETRY_OFFLINE_AFTER_SECONDS = 300
    seen = recent(10)
    operator_client.post(URL, [event(charger, "heartbeat", ts=seen)], format="json")

    assert services.charger_health_sweep(now=seen + timedelta(seconds=299)) == 0
    assert services.charger_health_sweep(now=seen + timedelta(seconds=301)) == 1
    assert services.charger_health_sweep(now=seen + timedelta(seconds=900)) == 0

    changes = [c.data for c in outbox("charger.health_changed.v1")]
    assert [(c.old_health, c.new_health) for c in changes] == [("offline", "online"), ("online", "offline")]
    assert "no contact" in changes[-1].reason


def test_the_offline_sweep_is_a_registered_beat_task():
    from evcharge.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"telemetry.health_sweep", "telemetry.rollup", "telemetry.retention"} <= tasks


@pytest.mark.postgres
def test_concurrent_batches_for_one_charger_leave_the_newest_state(client_for, api_key_for, operator_org, charger):
    connector = charger.connectors[0]
    key = api_key_for(operator_org)
    base = now_utc() - timedelta(minutes=30)
    for round_number in range(4):
        t_old = base + timedelta(seconds=round_number * 10)
        t_new = t_old + timedelta(seconds=5)
        batches = [
            [meter(charger, ts=t_old, energy_wh=1000 * round_number + 1, power_w=1000)]
            + [event(charger, "heartbeat", ts=t_old - timedelta(milliseconds=i)) for i in range(1, 200)],
            [meter(charger, ts=t_new, energy_wh=1000 * round_number + 2, power_w=2000)]
            + [event(charger, "heartbeat", ts=t_new - timedelta(milliseconds=i)) for i in range(1, 200)],
        ]
        if round_number % 2:
            batches.reverse()

        results = run_concurrently(lambda i, b=batches: client_for(api_key=key).post(URL, b[i], format="json"), 2)

        assert [r.status_code for r in results] == [202, 202], results
        state = LatestState.objects.get(charger_id=charger.charger_id, connector_id=connector.connector_id)
        assert (state.meter_ts, state.energy_wh, state.power_w) == (t_new, 1000 * round_number + 2, 2000)
        charger_level = LatestState.objects.exclude(connector_id=connector.connector_id).get(
            charger_id=charger.charger_id
        )
        assert charger_level.last_ts == t_new - timedelta(milliseconds=1)


def test_chargers_added_by_station_updated_are_accepted(operator_client, station, charger):
    added = ChargerInfo(
        charger_id=uuid.uuid4(),
        serial="SN-NEW",
        max_power_kw=22.0,
        connectors=[
            ConnectorInfo(
                connector_id=uuid.uuid4(), number=1, type="TYPE2", max_power_kw=22.0, status="Available", code="NEW1"
            )
        ],
    )
    with transaction.atomic():
        publish(
            StationUpdated(
                station_id=station.station_id,
                operator_id=station.operator_id,
                changed=["chargers"],
                name=station.name,
                timezone=station.timezone,
                location=station.location,
                chargers=[*station.chargers, added],
            )
        )

    response = operator_client.post(URL, [meter(added, ts=recent(5), energy_wh=42)], format="json")

    assert response.status_code == 202, response.content
    serials = [c["serial"] for c in operator_client.get(latest_url(station.station_id)).json()["chargers"]]
    assert "SN-NEW" in serials
