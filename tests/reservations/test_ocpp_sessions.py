"""Sessions on chargers online over OCPP: a start is a remote start (the session is pending until the charger's
StartTransaction links it), a stop is a remote stop (the session completes on the charger's StopTransaction),
and an offline charger takes nothing new. The chargepoints facade is stood in for here (the OCPP round trips
over a real WebSocket are in tests/chargepoints)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.reservations.models import ChargingSession
from evcharge.contracts import chargepoints
from evcharge.contracts import reservations as reservations_contract
from evcharge.contracts.reservations import ChargerStart
from evcharge.contracts.telemetry import ChargerHealthChanged
from tests.helpers import run_concurrently
from tests.reservations.conftest import publish_in_transaction


class FakeChargepoints:
    def __init__(self):
        self.online: set[uuid.UUID] = set()
        self.started: list[dict] = []
        self.stopped: list[uuid.UUID] = []

    def links(self, charger_ids):
        return {}

    def is_online(self, charger_id):
        return charger_id in self.online

    def remote_start(self, *, session_id, charger_id, connector_number, id_tag, requested_by):
        self.started.append({"session_id": session_id, "connector_number": connector_number, "id_tag": id_tag})
        return uuid.uuid4()

    def remote_stop(self, *, session_id, requested_by):
        self.stopped.append(session_id)
        return uuid.uuid4()


@pytest.fixture
def ocpp(monkeypatch, station) -> FakeChargepoints:
    fake = FakeChargepoints()
    fake.online.add(station.chargers[0].charger_id)
    monkeypatch.setattr(chargepoints._slot, "_implementation", fake)
    return fake


def charger_started(session_user_id, connector_id, *, meter=120_000, at=None):
    return reservations_contract.facade().session_start_from_charger(
        ChargerStart(
            connector_id=connector_id,
            user_id=session_user_id,
            meter_start_wh=meter,
            started_at=at or datetime.now(UTC),
        )
    )


def test_a_start_on_an_ocpp_charger_is_pending_until_the_charger_starts_and_then_one_session(
    ocpp, driver, driver_client, connector_id, outbox
):
    response = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json")

    assert response.status_code == 201, response.content
    session = response.json()
    assert session["status"] == "pending" and session["meter_start_wh"] is None
    (sent,) = ocpp.started
    assert sent["session_id"] == uuid.UUID(session["id"]) and sent["connector_number"] == 1
    assert sent["id_tag"].startswith("EVC")  # a platform-issued tag: the driver has no card
    assert outbox("session.started.v1") == []  # billing and reporting never hear of a pending session

    result = charger_started(driver.id, connector_id)

    assert result.session_id == uuid.UUID(session["id"]) and result.refusal == ""
    got = driver_client.get(f"/api/v1/sessions/{session['id']}").json()
    assert (got["status"], got["meter_start_wh"]) == ("active", 120_000)
    assert ChargingSession.objects.count() == 1
    (started,) = outbox("session.started.v1")
    assert started.data.meter_start_wh == 120_000


def test_a_stop_is_a_remote_stop_and_the_session_completes_on_the_chargers_meter(
    ocpp, driver, driver_client, connector_id, outbox
):
    session_id = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json").json()["id"]
    charger_started(driver.id, connector_id)

    stopping = driver_client.post(f"/api/v1/sessions/{session_id}/stop", {}, format="json")

    assert stopping.status_code == 202, stopping.content
    assert stopping.json()["status"] == "active" and stopping.json()["stop_requested_at"]
    assert ocpp.stopped == [uuid.UUID(session_id)]
    assert outbox("session.completed.v1") == []

    reservations_contract.facade().session_stop_from_charger(
        session_id=uuid.UUID(session_id), meter_stop_wh=120_800, stopped_at=datetime.now(UTC)
    )
    reservations_contract.facade().session_stop_from_charger(  # the charger replays its queue: nothing changes
        session_id=uuid.UUID(session_id), meter_stop_wh=999_999, stopped_at=datetime.now(UTC)
    )

    done = driver_client.get(f"/api/v1/sessions/{session_id}").json()
    assert (done["status"], done["energy_wh"], done["energy_status"]) == ("completed", 800, "metered")
    (completed,) = outbox("session.completed.v1")
    assert completed.data.energy_wh == 800


def test_a_rejected_or_unconfirmed_remote_start_cancels_the_pending_session(
    ocpp, driver, driver_client, connector_id, outbox
):
    session_id = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json").json()["id"]

    reservations_contract.facade().session_cancel_pending(session_id=uuid.UUID(session_id), reason="Rejected")

    got = driver_client.get(f"/api/v1/sessions/{session_id}").json()
    assert (got["status"], got["cancel_reason"]) == ("cancelled", "Rejected")
    assert outbox("session.started.v1") == [] and outbox("session.stopped.v1") == []
    again = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json")
    assert again.status_code == 201, "a cancelled session holds neither the connector nor the driver"


def test_stopping_a_pending_session_cancels_it(ocpp, driver_client, connector_id):
    session_id = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json").json()["id"]

    stopped = driver_client.post(f"/api/v1/sessions/{session_id}/stop", {}, format="json")

    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    assert ocpp.stopped == []


def test_a_charger_started_with_an_rfid_tag_gets_a_new_session_or_a_refusal(
    ocpp, driver, other_driver, driver_client, connector_id, station
):
    result = charger_started(driver.id, connector_id, at=datetime.now(UTC) + timedelta(hours=5))  # a clock gone wild
    session = ChargingSession.objects.get(id=result.session_id)
    assert session.status == "active" and session.meter_start_wh == 120_000
    assert abs((session.started_at - datetime.now(UTC)).total_seconds()) < 60, "the platform's clock stood in"

    assert charger_started(other_driver.id, connector_id).refusal == "connector_busy"
    other_connector = station.chargers[0].connectors[1].connector_id
    assert charger_started(driver.id, other_connector).refusal == "driver_busy"
    assert charger_started(driver.id, uuid.uuid4()).refusal == "connector_unknown"


def test_chargers_without_ocpp_keep_the_rest_behaviour(ocpp, driver_client, connector_id):
    ocpp.online.clear()

    response = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json")

    assert response.status_code == 201 and response.json()["status"] == "active"
    assert ocpp.started == []


def test_an_offline_charger_takes_no_new_session_or_reservation_until_it_is_back(driver_client, connector_id, station):
    charger = station.chargers[0]

    def health(new, minutes_ago):
        publish_in_transaction(
            ChargerHealthChanged(
                charger_id=charger.charger_id,
                station_id=station.station_id,
                old_health="online",
                new_health=new,
                reason="test",
                changed_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            )
        )

    health("offline", 1)
    health("online", 5)  # an older change arriving late changes nothing

    refused = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "charger_offline"
    starts_at = datetime.now(UTC) + timedelta(minutes=5)
    window = {"starts_at": starts_at.isoformat(), "ends_at": (starts_at + timedelta(hours=1)).isoformat()}
    reserved = driver_client.post("/api/v1/reservations", {"connector_id": str(connector_id), **window}, format="json")
    assert reserved.status_code == 409 and reserved.json()["code"] == "charger_offline"

    health("online", 0)
    assert driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json").status_code == 201


@pytest.mark.postgres
def test_two_drivers_starting_on_one_ocpp_connector_at_once_get_one_session(ocpp, make_user, client_for, connector_id):
    clients = [client_for(make_user("driver")) for _ in range(6)]

    statuses = run_concurrently(
        lambda i: clients[i].post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json").status_code,
        len(clients),
    )

    assert sorted(statuses) == [201] + [409] * 5
    assert ChargingSession.objects.filter(status="pending").count() == 1
    assert len(ocpp.started) == 1


def test_energy_so_far_comes_from_the_chargers_meter_values_and_stays_one_lookup(
    ocpp, monkeypatch, driver, driver_client, station, connector_id
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.telemetry.facade import TelemetryFacadeImpl
    from evcharge.contracts import telemetry
    from evcharge.contracts.telemetry import ChargerSample

    monkeypatch.setattr(telemetry._slot, "_implementation", TelemetryFacadeImpl())
    session_id = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json").json()["id"]
    started_at = datetime.now(UTC) - timedelta(seconds=30)
    charger_started(driver.id, connector_id, meter=120_000, at=started_at)

    def meter_values(count, *, offset):
        samples = [
            ChargerSample(
                connector_id=connector_id,
                ts=started_at + timedelta(milliseconds=5 * (offset + i) + 1),
                energy_wh=120_000 + offset + i,
            )
            for i in range(count)
        ]
        telemetry.facade().record_charger_samples(charger_id=station.chargers[0].charger_id, samples=samples)

    def energy_so_far():
        with CaptureQueriesContext(connection) as queries:
            body = driver_client.get(f"/api/v1/sessions/{session_id}").json()
        return body["live_energy_wh"], len(queries)

    meter_values(1, offset=0)
    (early_energy, early_queries) = energy_so_far()
    meter_values(3_000, offset=1)
    (late_energy, late_queries) = energy_so_far()

    assert (early_energy, late_energy) == (0, 3_000)
    assert late_queries == early_queries, "thousands of MeterValues later, GET /sessions/{id} asks no more"


def test_the_facade_fulfils_the_reservation_named_by_the_charger_and_a_second_cancel_changes_nothing(
    ocpp, driver, driver_client, connector_id, reserve
):
    reservation = reserve(driver_client, connector_id, start_in_minutes=5).json()

    result = reservations_contract.facade().session_start_from_charger(
        ChargerStart(
            connector_id=connector_id,
            user_id=driver.id,
            meter_start_wh=5_000,
            started_at=datetime.now(UTC),
            reservation_id=uuid.UUID(reservation["id"]),
        )
    )

    session = ChargingSession.objects.get(id=result.session_id)
    assert session.reservation_id == uuid.UUID(reservation["id"])
    fulfilled = driver_client.get(f"/api/v1/reservations/{reservation['id']}").json()
    assert fulfilled["status"] == "fulfilled"

    reservations_contract.facade().session_cancel_pending(session_id=session.id, reason="late")  # not pending
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == ("active", "")


def test_a_charger_that_starts_a_transaction_is_not_refused_for_a_stale_offline_health(
    ocpp, driver, driver_client, connector_id, station
):
    publish_in_transaction(
        ChargerHealthChanged(
            charger_id=station.chargers[0].charger_id,
            station_id=station.station_id,
            old_health="online",
            new_health="offline",
            reason="test",
            changed_at=datetime.now(UTC) - timedelta(seconds=5),
        )
    )
    refused = driver_client.post("/api/v1/sessions", {"connector_id": str(connector_id)}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "charger_offline"

    result = charger_started(driver.id, connector_id)  # its StartTransaction arrives before the 'online' event

    assert result.refusal == "" and ChargingSession.objects.get(id=result.session_id).status == "active"
