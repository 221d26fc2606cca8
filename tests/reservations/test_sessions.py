from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from apps.reservations.models import ChargingSession, Reservation
from evcharge.contracts.pricing import NoApplicableTariff, TariffSnapshot
from evcharge.contracts.stations import StationStatusChanged
from evcharge.errors import NotFound
from evcharge.events.codec import to_primitive
from tests.helpers import assert_problem
from tests.reservations.conftest import TEST_TARIFF, FakePricing, backdate, publish_in_transaction

PROBLEM = "application/problem+json"
TEST_TARIFF_JSON = to_primitive(TEST_TARIFF)


def _hold_now(reservation_id) -> None:
    """Time passes: the reservation's window now holds the present moment."""
    now = datetime.now(UTC)
    Reservation.objects.filter(id=reservation_id).update(
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=55)
    )


def _stop(client, session_id, body=None):
    return client.post(f"/api/v1/sessions/{session_id}/stop", body or {}, format="json")


def test_a_driver_starts_and_stops_charging(
    driver, driver_client, station, connector_id, start_session, fake_telemetry, outbox
):
    fake_telemetry.record(connector_id, 10_000, ts=datetime.now(UTC) - timedelta(hours=2))
    started = start_session(driver_client, connector_id)
    assert started.status_code == 201, started.content
    session = started.json()
    assert session["status"] == "active"
    assert session["connector_id"] == str(connector_id)
    assert session["station_id"] == str(station.station_id)
    assert session["started_at"]
    assert session["tariff"] == TEST_TARIFF_JSON
    assert (session["meter_start_wh"], session["energy_wh"], session["energy_status"]) == (10_000, None, "measuring")

    backdate(session["id"], minutes=30)
    fake_telemetry.record(connector_id, 22_345)
    stopped = _stop(driver_client, session["id"])
    assert stopped.status_code == 200, stopped.content
    body = stopped.json()
    assert (body["status"], body["energy_wh"], body["meter_stop_wh"]) == ("completed", 12_345, 22_345)
    assert (body["energy_status"], body["meter_pending"]) == ("metered", False)
    assert body["ended_at"] >= body["started_at"]

    started_event, stopped_event, completed_event = (
        outbox("session.started.v1") + outbox("session.stopped.v1") + outbox("session.completed.v1")
    )
    expected_common = {
        "session_id": UUID(session["id"]),
        "connector_id": connector_id,
        "station_id": station.station_id,
        "user_id": driver.id,
        "operator_id": station.operator_id,
        "connector_type": "CCS2",
        "reservation_id": None,
        "meter_start_wh": 10_000,
        "tariff": TEST_TARIFF,
    }
    for event in (started_event, completed_event):
        assert {key: getattr(event.data, key) for key in expected_common} == expected_common
    row = ChargingSession.objects.get()
    assert completed_event.data.started_at == row.started_at
    assert (completed_event.data.meter_stop_wh, completed_event.data.energy_wh) == (22_345, 12_345)
    assert completed_event.data.energy_source == "meter"
    assert completed_event.data.ended_at == stopped_event.data.ended_at == row.ended_at
    assert stopped_event.data.energy_status == "metered"


def test_start_by_qr_code(driver_client, connector):
    response = driver_client.post("/api/v1/sessions", {"code": connector.code}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["connector_id"] == str(connector.connector_id)
    assert response.json()["meter_start_wh"] is None  # no reading from the charger yet


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"code": "NOSUCHQR"}, 404),
        ({"connector_id": "00000000-0000-4000-8000-000000000000"}, 404),
        ({}, 400),
        ({"connector_id": "not-a-uuid"}, 400),
        ({"code": "X", "connector_id": "00000000-0000-4000-8000-000000000000"}, 400),
        ({"code": "X" * 33}, 400),
    ],
)
def test_bad_starts(driver_client, station, body, status):
    response = driver_client.post("/api/v1/sessions", body, format="json")
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize("value", [0, 5, -1, 2**63 - 1, 2**63, 2**70, "lots", None])
def test_a_driver_never_sends_the_start_meter(driver_client, connector_id, start_session, value):
    response = start_session(driver_client, connector_id, meter_start_wh=value)
    assert_problem(response, 400, fields=("meter_start_wh",))
    assert ChargingSession.objects.count() == 0


def test_only_drivers_start(operator_client, admin_client, connector_id, start_session):
    assert start_session(operator_client, connector_id).status_code == 403
    assert start_session(admin_client, connector_id).status_code == 403


def test_a_busy_connector_is_409(driver_client, other_driver_client, connector_id, start_session):
    assert start_session(driver_client, connector_id).status_code == 201
    response = start_session(other_driver_client, connector_id)
    assert response.status_code == 409
    assert response.json()["code"] == "connector_busy"
    assert ChargingSession.objects.count() == 1


def test_one_active_session_per_driver(driver_client, station, start_session):
    first, second = (c.connector_id for c in station.chargers[0].connectors)
    assert start_session(driver_client, first).status_code == 201
    response = start_session(driver_client, second)
    assert response.status_code == 409
    assert response.json()["code"] == "driver_busy"


def test_a_faulted_connector_is_409(driver_client, station, connector, start_session):
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
    response = start_session(driver_client, connector.connector_id)
    assert response.status_code == 409
    assert response.json()["code"] == "connector_out_of_service"


def test_a_disabled_station_is_409(driver_client, station, connector_id, start_session, set_station_settings):
    set_station_settings(station, enabled=False)
    assert start_session(driver_client, connector_id).status_code == 409


def test_reserved_by_someone_else_is_409_and_own_reservation_is_fulfilled(
    driver, driver_client, other_driver_client, connector_id, reserve, start_session, outbox
):
    reservation_id = reserve(driver_client, connector_id).json()["id"]
    _hold_now(reservation_id)

    refused = start_session(other_driver_client, connector_id)
    assert refused.status_code == 409
    assert refused.json()["code"] == "connector_reserved"

    started = start_session(driver_client, connector_id)  # no reservation_id: the open one is used
    assert started.status_code == 201, started.content
    assert started.json()["reservation_id"] == reservation_id
    reservation = driver_client.get(f"/api/v1/reservations/{reservation_id}").json()
    assert reservation["status"] == "fulfilled"
    assert reservation["session_id"] == started.json()["id"]
    assert str(outbox("session.started.v1")[0].data.reservation_id) == reservation_id


def test_start_on_an_explicit_reservation(driver_client, connector_id, reserve, start_session):
    reservation_id = reserve(driver_client, connector_id, start_in_minutes=5).json()["id"]  # early start allowed
    started = start_session(driver_client, connector_id, reservation_id=reservation_id)
    assert started.status_code == 201, started.content
    assert Reservation.objects.get(id=reservation_id).status == "fulfilled"
    assert driver_client.post(f"/api/v1/reservations/{reservation_id}/cancel").status_code == 409


def test_reservation_rules_on_start(driver_client, other_driver_client, station, reserve, start_session):
    first, second = (c.connector_id for c in station.chargers[0].connectors)
    others = reserve(other_driver_client, first, start_in_minutes=300).json()["id"]
    assert start_session(driver_client, first, reservation_id=others).status_code == 404

    later = reserve(driver_client, first, start_in_minutes=600).json()["id"]
    not_open = start_session(driver_client, first, reservation_id=later)
    assert (not_open.status_code, not_open.json()["code"]) == (409, "reservation_not_open")

    _hold_now(later)
    elsewhere = start_session(driver_client, second, reservation_id=later)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (409, "reservation_other_connector")

    driver_client.post(f"/api/v1/reservations/{later}/cancel")
    assert start_session(driver_client, first, reservation_id=later).status_code == 409


def test_idempotent_start(driver_client, station, connector_id):
    body = {"connector_id": str(connector_id)}
    headers = {"HTTP_IDEMPOTENCY_KEY": "start-42"}
    first = driver_client.post("/api/v1/sessions", body, format="json", **headers)
    replay = driver_client.post("/api/v1/sessions", body, format="json", **headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert ChargingSession.objects.count() == 1

    other_connector = station.chargers[0].connectors[1].connector_id
    other_body = driver_client.post(
        "/api/v1/sessions", {"connector_id": str(other_connector)}, format="json", **headers
    )
    assert other_body.status_code == 409
    assert other_body["Content-Type"].startswith(PROBLEM)
    assert ChargingSession.objects.count() == 1


def test_stop_twice_is_409(driver_client, connector_id, start_session, fake_telemetry, outbox):
    fake_telemetry.record(connector_id, 0, ts=datetime.now(UTC) - timedelta(hours=1))
    session_id = start_session(driver_client, connector_id).json()["id"]
    backdate(session_id, minutes=10)
    fake_telemetry.record(connector_id, 10)
    assert _stop(driver_client, session_id).status_code == 200
    fake_telemetry.record(connector_id, 20)
    again = _stop(driver_client, session_id)
    assert again.status_code == 409
    assert again["Content-Type"].startswith(PROBLEM)
    assert len(outbox("session.completed.v1")) == 1
    assert ChargingSession.objects.get().energy_wh == 10


def test_meter_values_come_from_telemetry(driver_client, connector_id, fake_telemetry, start_session, outbox):
    fake_telemetry.record(connector_id, 50_000, ts=datetime.now(UTC) - timedelta(hours=2))
    session = start_session(driver_client, connector_id).json()
    assert session["meter_start_wh"] == 50_000
    assert session["live_energy_wh"] is None  # the only reading predates the session

    backdate(session["id"], minutes=20)
    fake_telemetry.record(connector_id, 53_500)
    assert driver_client.get(f"/api/v1/sessions/{session['id']}").json()["live_energy_wh"] == 3_500

    reading = fake_telemetry.record(connector_id, 57_250)
    stopped = _stop(driver_client, session["id"]).json()
    assert (stopped["meter_stop_wh"], stopped["energy_wh"], stopped["live_energy_wh"]) == (57_250, 7_250, None)
    assert outbox("session.completed.v1")[0].data.charging_ended_at == reading.ts


def test_the_tariff_snapshot_comes_from_pricing(
    fake_pricing, driver_client, station, connector_id, start_session, charger_client, outbox
):
    tariff = TariffSnapshot(
        rate_plan_id=UUID("11111111-1111-4111-8111-111111111111"),
        currency="EUR",
        energy_price_per_kwh=59,
        time_price_per_min=2,
        session_fee=100,
        idle_fee_per_min=10,
        idle_grace_min=15,
    )
    fake_pricing.tariff = tariff
    session = start_session(driver_client, connector_id).json()
    assert session["tariff"] == to_primitive(tariff)
    assert fake_pricing.calls == [(station.station_id, "CCS2")]

    # Later price changes do not touch the running session.
    fake_pricing.tariff = TEST_TARIFF
    stopped = _stop(driver_client, session["id"])
    assert stopped.json()["tariff"] == to_primitive(tariff)
    assert outbox("session.stopped.v1")[0].data.session_id == UUID(session["id"])


@pytest.mark.parametrize("error", [None, NoApplicableTariff("no plan"), LookupError("no plan"), NotFound("unknown")])
def test_no_tariff_refuses_the_session_with_409(monkeypatch, driver_client, connector_id, start_session, outbox, error):
    from evcharge.contracts import pricing

    monkeypatch.setattr(pricing._slot, "_implementation", FakePricing(error=error) if error else None)
    response = start_session(driver_client, connector_id)
    body = assert_problem(response, 409)
    assert body["code"] == "no_tariff"
    assert ChargingSession.objects.count() == 0
    assert outbox("session.started.v1") == []


def test_who_may_see_and_stop_a_session(
    driver_client,
    other_driver_client,
    operator_client,
    other_operator_client,
    admin_client,
    other_operator_org,
    client_for,
    api_key_for,
    charger_client,
    connector_id,
    start_session,
    fake_telemetry,
):
    fake_telemetry.record(connector_id, 1_000, ts=datetime.now(UTC) - timedelta(hours=1))
    session_id = start_session(driver_client, connector_id).json()["id"]
    backdate(session_id, minutes=5)
    url = f"/api/v1/sessions/{session_id}"
    for viewer in (driver_client, operator_client, admin_client):
        assert viewer.get(url).status_code == 200
    strangers = (other_driver_client, other_operator_client, client_for(api_key=api_key_for(other_operator_org)))
    for stranger in strangers:
        assert _stop(stranger, session_id).status_code == 404
        assert _stop(stranger, session_id, {"meter_stop_wh": 1_005}).status_code == 404
    for stranger in strangers[:2]:
        assert stranger.get(url).status_code == 404
        assert stranger.get("/api/v1/sessions").json()["count"] == 0

    stopped = _stop(charger_client, session_id, {"meter_stop_wh": 1_005})
    assert stopped.status_code == 200, stopped.content
    assert (stopped.json()["energy_wh"], stopped.json()["energy_status"]) == (5, "metered")


def test_operator_and_admin_stop(
    driver_client, other_driver_client, operator_client, admin_client, station, start_session
):
    first, second = (c.connector_id for c in station.chargers[0].connectors)
    one = start_session(driver_client, first).json()["id"]
    two = start_session(other_driver_client, second).json()["id"]
    assert _stop(operator_client, one).status_code == 200
    assert _stop(admin_client, two).status_code == 200


def test_history_filters(driver_client, station, start_session):
    first, second = (c.connector_id for c in station.chargers[0].connectors)
    done = start_session(driver_client, first).json()["id"]
    _stop(driver_client, done)
    ChargingSession.objects.filter(id=done).update(started_at=datetime.now(UTC) - timedelta(days=3))
    active = start_session(driver_client, second).json()["id"]

    def ids(query):
        response = driver_client.get("/api/v1/sessions", query)
        assert response.status_code == 200, response.content
        return [s["id"] for s in response.json()["results"]]

    assert ids({}) == [active, done]
    assert ids({"status": "active"}) == [active]
    assert ids({"status": "completed"}) == [done]
    assert ids({"awaiting_meter": "true"}) == [done]
    assert ids({"awaiting_meter": "false"}) == [active]
    assert ids({"energy_status": "measuring"}) == [active]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert ids({"from": yesterday}) == [active]
    assert ids({"to": yesterday}) == [done]
    assert driver_client.get("/api/v1/sessions", {"to": "soon"}).status_code == 400
    assert driver_client.get("/api/v1/sessions", {"status": "confirmed"}).status_code == 400
    assert driver_client.get("/api/v1/sessions", {"awaiting_meter": "maybe"}).status_code == 400
    assert driver_client.get("/api/v1/sessions", {"energy_status": "guessed"}).status_code == 400


def test_the_flow_publishes_its_events_in_order(
    driver_client, connector_id, reserve, start_session, fake_telemetry, outbox
):
    fake_telemetry.record(connector_id, 100, ts=datetime.now(UTC) - timedelta(hours=1))
    reservation_id = reserve(driver_client, connector_id, start_in_minutes=2).json()["id"]
    session_id = start_session(driver_client, connector_id, reservation_id=reservation_id).json()["id"]
    backdate(session_id, minutes=1)
    fake_telemetry.record(connector_id, 107)
    _stop(driver_client, session_id)
    mine = [e for e in outbox() if e.source == "/evcharge/reservations"]
    assert [e.type for e in mine] == [
        "reservation.created.v1",
        "session.started.v1",
        "session.stopped.v1",
        "session.completed.v1",
    ]
    assert [str(e.subject) for e in mine] == [reservation_id, session_id, session_id, session_id]
