"""Energy comes only from the charger: drivers' meter values are refused, the charger's are checked against
what the connector can deliver, and a session whose reading is unknown at stop waits for it (or for staff)."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from django.db import transaction

from apps.reservations import services, tasks
from apps.reservations.models import ChargingSession
from evcharge.contracts.telemetry import TelemetryIngested
from evcharge.events import publish
from tests.helpers import assert_problem, speak_ocpp
from tests.reservations.conftest import backdate

HOUR_AGO = timedelta(hours=1)


def _stop(client, session_id, body=None):
    return client.post(f"/api/v1/sessions/{session_id}/stop", body or {}, format="json")


def _settle(client, session_id, energy_wh=12_000, reason="charger lost its meter data; from the car's log"):
    return client.post(
        f"/api/v1/sessions/{session_id}/settle", {"energy_wh": energy_wh, "reason": reason}, format="json"
    )


def _telemetry_ingested(*connector_ids) -> None:
    """What telemetry publishes after storing a batch for these connectors."""
    now = datetime.now(UTC)
    with transaction.atomic():
        publish(
            TelemetryIngested(
                batch_id=UUID(int=len(connector_ids)),
                charger_ids=[],
                connector_ids=list(connector_ids),
                count=1,
                first_ts=now,
                last_ts=now,
            )
        )


@pytest.fixture
def charging(driver_client, connector_id, start_session, fake_telemetry):
    """A session started an hour ago on a meter at 100 kWh; the charger has since reported 150 kWh."""
    fake_telemetry.record(connector_id, 100_000, ts=datetime.now(UTC) - 2 * HOUR_AGO)
    session = start_session(driver_client, connector_id).json()
    backdate(session["id"], minutes=60)
    fake_telemetry.record(connector_id, 150_000)
    return session


def test_a_driver_cannot_choose_the_billed_energy(driver_client, charging, outbox):
    refused = _stop(driver_client, charging["id"], {"meter_stop_wh": charging["meter_start_wh"]})
    body = assert_problem(refused, 400, fields=("meter_stop_wh",))
    assert body["code"] == "meter_from_charger_only"
    assert ChargingSession.objects.get().status == "active"

    stopped = _stop(driver_client, charging["id"])
    assert stopped.status_code == 200, stopped.content
    assert (stopped.json()["energy_wh"], stopped.json()["energy_status"]) == (50_000, "metered")
    [completed] = outbox("session.completed.v1")
    assert (completed.data.meter_start_wh, completed.data.meter_stop_wh, completed.data.energy_wh) == (
        100_000,
        150_000,
        50_000,
    )


@pytest.mark.parametrize("who", ["operator_client", "admin_client"])
def test_staff_tokens_do_not_send_meter_values_either(request, charging, who):
    response = _stop(request.getfixturevalue(who), charging["id"], {"meter_stop_wh": 150_000})
    assert assert_problem(response, 400, fields=("meter_stop_wh",))["code"] == "meter_from_charger_only"
    assert ChargingSession.objects.get().status == "active"


@pytest.mark.parametrize("value", [9223372036854775807, 2**63, 2**70, -1, 10**12 + 1, "many", 1.5])
@pytest.mark.parametrize("who", ["driver_client", "charger_client"])
def test_absurd_stop_meters_are_400_and_nothing_is_published(request, charging, outbox, who, value):
    response = _stop(request.getfixturevalue(who), charging["id"], {"meter_stop_wh": value})
    assert_problem(response, 400, fields=("meter_stop_wh",))
    assert ChargingSession.objects.get().status == "active"
    assert outbox("session.completed.v1") == outbox("session.stopped.v1") == []


def test_the_charger_may_send_its_stop_meter(charger_client, charging, outbox):
    stopped = _stop(charger_client, charging["id"], {"meter_stop_wh": 140_000})
    assert stopped.status_code == 200, stopped.content
    assert (stopped.json()["meter_stop_wh"], stopped.json()["energy_wh"]) == (140_000, 40_000)
    assert outbox("session.completed.v1")[0].data.energy_wh == 40_000


def test_a_charger_meter_beyond_what_the_connector_delivers_is_422(charger_client, charging, outbox):
    # 150 kW for an hour is 150 kWh (plus a tolerance): 400 kWh cannot have flowed.
    beyond = _stop(charger_client, charging["id"], {"meter_stop_wh": 500_000})
    body = assert_problem(beyond, 422, fields=("meter_stop_wh",))
    assert body["code"] == "meter_beyond_capacity"
    below = _stop(charger_client, charging["id"], {"meter_stop_wh": 99_999})
    assert assert_problem(below, 422, fields=("meter_stop_wh",))["code"] == "meter_below_start"
    assert ChargingSession.objects.get().status == "active"
    assert outbox("session.completed.v1") == []


def test_an_implausible_telemetry_reading_leaves_the_session_awaiting(
    driver_client, charging, fake_telemetry, connector_id, outbox
):
    fake_telemetry.record(connector_id, 900_000)  # 800 kWh in an hour on a 150 kW connector
    stopped = _stop(driver_client, charging["id"]).json()
    assert (stopped["status"], stopped["energy_status"], stopped["energy_wh"]) == ("completed", "awaiting_meter", None)
    assert outbox("session.completed.v1") == []


def test_no_reading_at_stop_completes_and_waits_for_the_charger(
    driver_client, connector_id, start_session, fake_telemetry, outbox
):
    fake_telemetry.record(connector_id, 7_000, ts=datetime.now(UTC) - 2 * HOUR_AGO)
    session = start_session(driver_client, connector_id).json()
    backdate(session["id"], minutes=30)
    stopped = _stop(driver_client, session["id"])  # the charger has said nothing since the start
    assert stopped.status_code == 200, stopped.content
    body = stopped.json()
    assert (body["status"], body["energy_status"], body["meter_pending"], body["energy_wh"]) == (
        "completed",
        "awaiting_meter",
        True,
        None,
    )
    [stopped_event] = outbox("session.stopped.v1")
    assert stopped_event.data.energy_status == "awaiting_meter"
    assert outbox("session.completed.v1") == []  # so billing does not finalize an invoice yet

    # Telemetry stores a batch for another connector: nothing changes.
    _telemetry_ingested(UUID(int=5))
    assert outbox("session.completed.v1") == []

    # The charger's reading after the stop arrives; telemetry says so; the session is finalized.
    fake_telemetry.record(connector_id, 19_500, ts=datetime.now(UTC) + timedelta(seconds=5))
    _telemetry_ingested(connector_id)
    [completed] = outbox("session.completed.v1")
    assert (completed.data.meter_start_wh, completed.data.meter_stop_wh, completed.data.energy_wh) == (
        7_000,
        19_500,
        12_500,
    )
    assert completed.data.energy_source == "meter"
    after = driver_client.get(f"/api/v1/sessions/{session['id']}").json()
    assert (after["energy_status"], after["meter_pending"], after["energy_wh"]) == ("metered", False, 12_500)


def test_an_unknown_start_meter_is_the_chargers_first_reading_of_the_session(
    driver_client, connector_id, start_session, fake_telemetry, outbox
):
    session = start_session(driver_client, connector_id).json()
    assert session["meter_start_wh"] is None
    backdate(session["id"], minutes=30)
    fake_telemetry.record(connector_id, 80_000, ts=datetime.now(UTC) - timedelta(minutes=29))
    fake_telemetry.record(connector_id, 91_000, ts=datetime.now(UTC) - timedelta(minutes=1))
    stopped = _stop(driver_client, session["id"]).json()
    assert (stopped["meter_start_wh"], stopped["meter_stop_wh"], stopped["energy_wh"]) == (80_000, 91_000, 11_000)
    assert outbox("session.completed.v1")[0].data.meter_start_wh == 80_000


def test_the_periodic_sweep_finalizes_what_an_event_missed(
    driver_client, charging, fake_telemetry, connector_id, outbox
):
    fake_telemetry.history[connector_id].pop()  # the 150 kWh reading was never known
    assert _stop(driver_client, charging["id"]).json()["energy_status"] == "awaiting_meter"
    assert tasks.finalize_sessions_awaiting_meter() == 0
    fake_telemetry.record(connector_id, 130_000, ts=datetime.now(UTC) + timedelta(seconds=1))
    assert tasks.finalize_sessions_awaiting_meter() == 1
    assert outbox("session.completed.v1")[0].data.energy_wh == 30_000
    assert tasks.finalize_sessions_awaiting_meter() == 0


def test_the_sweep_is_a_beat_entry():
    from evcharge.celery import app

    assert app.conf.beat_schedule[tasks.FINALIZE_AWAITING_METER]["task"] == tasks.FINALIZE_AWAITING_METER


@pytest.fixture
def awaiting(driver_client, connector_id, start_session, fake_telemetry):
    """A session stopped after two hours, its charger silent since the start."""
    fake_telemetry.record(connector_id, 1_000, ts=datetime.now(UTC) - 3 * HOUR_AGO)
    session = start_session(driver_client, connector_id).json()
    backdate(session["id"], minutes=120)
    assert _stop(driver_client, session["id"]).json()["energy_status"] == "awaiting_meter"
    return session


def test_staff_see_and_settle_sessions_awaiting_a_reading(operator_client, operator_user, awaiting, outbox):
    listed = operator_client.get("/api/v1/sessions", {"awaiting_meter": "true"}).json()
    assert [s["id"] for s in listed["results"]] == [awaiting["id"]]

    settled = _settle(operator_client, awaiting["id"])
    assert settled.status_code == 200, settled.content
    body = settled.json()
    assert (body["energy_status"], body["energy_wh"], body["meter_pending"]) == ("settled", 12_000, False)
    assert body["settled_by"] == str(operator_user.id)
    assert body["settlement_reason"] == "charger lost its meter data; from the car's log"
    [completed] = outbox("session.completed.v1")
    assert (completed.data.energy_wh, completed.data.energy_source) == (12_000, "settled")
    assert (completed.data.meter_start_wh, completed.data.meter_stop_wh) == (1_000, 13_000)
    assert operator_client.get("/api/v1/sessions", {"awaiting_meter": "true"}).json()["count"] == 0

    again = _settle(operator_client, awaiting["id"])
    assert assert_problem(again, 409)["code"] == "session_not_awaiting_meter"


def test_admins_settle_too(admin_client, awaiting, outbox):
    assert _settle(admin_client, awaiting["id"], energy_wh=0, reason="car never charged").status_code == 200
    assert outbox("session.completed.v1")[0].data.energy_wh == 0


def test_who_may_not_settle(driver_client, other_operator_client, charger_client, awaiting, outbox):
    assert_problem(_settle(driver_client, awaiting["id"]), 403)
    assert_problem(_settle(other_operator_client, awaiting["id"]), 404)
    assert _settle(charger_client, awaiting["id"]).status_code in (401, 403)
    assert ChargingSession.objects.get().energy_status == "awaiting_meter"
    assert outbox("session.completed.v1") == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"energy_wh": 2**70, "reason": "x"}, 400, "energy_wh"),
        ({"energy_wh": 9223372036854775807, "reason": "x"}, 400, "energy_wh"),
        ({"energy_wh": -1, "reason": "x"}, 400, "energy_wh"),
        ({"energy_wh": 1_000}, 400, "reason"),
        ({"energy_wh": 1_000, "reason": "   "}, 400, "reason"),
        ({"energy_wh": 1_000, "reason": "x" * 501}, 400, "reason"),
        ({"energy_wh": 400_000, "reason": "guess"}, 422, "energy_wh"),  # 150 kW x 2 h = 300 kWh at most
    ],
)
def test_settling_is_bounded(operator_client, awaiting, outbox, body, status, field):
    response = operator_client.post(f"/api/v1/sessions/{awaiting['id']}/settle", body, format="json")
    assert_problem(response, status, fields=(field,))
    assert outbox("session.completed.v1") == []


def test_an_active_or_metered_session_cannot_be_settled(operator_client, driver_client, charging):
    assert assert_problem(_settle(operator_client, charging["id"]), 409)["code"] == "session_not_awaiting_meter"
    _stop(driver_client, charging["id"])
    assert assert_problem(_settle(operator_client, charging["id"]), 409)["code"] == "session_not_awaiting_meter"


def test_settle_service_keeps_the_reason(awaiting, operator_user):
    from evcharge.actor import Actor

    by = Actor(user_id=operator_user.id, role="operator", operator_id=operator_user.operator_id)
    session = services.session_settle(session_id=awaiting["id"], energy_wh=5, reason=" meter swapped ", by=by)
    assert (session.settlement_reason, session.settled_by, session.settled_at is not None) == (
        "meter swapped",
        operator_user.id,
        True,
    )


def test_a_charger_that_speaks_ocpp_reports_its_stop_meter_only_over_ocpp(
    monkeypatch, charger_client, charging, station, outbox
):
    speak_ocpp(monkeypatch, station.chargers[0].charger_id)

    refused = _stop(charger_client, charging["id"], {"meter_stop_wh": 100_001})  # its operator's key, 1 Wh billed
    body = assert_problem(refused, 400, fields=("meter_stop_wh",))
    assert body["code"] == "meter_from_ocpp_charger"
    assert ChargingSession.objects.get().status == "active"
    assert outbox("session.stopped.v1") == []

    stopped = _stop(charger_client, charging["id"])
    assert stopped.status_code == 200, stopped.content
    assert (stopped.json()["energy_wh"], stopped.json()["energy_status"]) == (50_000, "metered")  # the charger's
