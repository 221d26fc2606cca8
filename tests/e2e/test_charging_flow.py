"""The whole charging flow over HTTP: an operator opens a station, a driver reserves a connector,
charges on the reservation and stops; every context hears about it through the event bus."""

from datetime import UTC, datetime, timedelta

FLOW_EVENTS = ("station.", "reservation.", "session.")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_station_reservation_session_flow(operator_client, operator_org, driver, driver_client, outbox):
    # The operator opens a station with one DC charger.
    created = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Harbour Hub",
            "address": "Hafenstraße 1, Berlin",
            "latitude": 52.52,
            "longitude": 13.405,
            "timezone": "Europe/Berlin",
            "chargers": [{"serial": "HH-DC-01", "max_power_kw": 150, "connectors": [{"number": 1, "type": "CCS2"}]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    station = created.json()
    connector = station["chargers"][0]["connectors"][0]

    # The driver reserves it from in a few minutes, for an hour.
    starts_at = datetime.now(UTC) + timedelta(minutes=3)
    reserved = driver_client.post(
        "/api/v1/reservations",
        {"connector_id": connector["id"], "starts_at": iso(starts_at), "ends_at": iso(starts_at + timedelta(hours=1))},
        format="json",
    )
    assert reserved.status_code == 201, reserved.content
    reservation = reserved.json()

    # Arriving a little early, the driver starts charging on the reservation, scanning the QR code.
    started = driver_client.post(
        "/api/v1/sessions",
        {"code": connector["code"], "reservation_id": reservation["id"], "meter_start_wh": 120_000},
        format="json",
        HTTP_IDEMPOTENCY_KEY="flow-start-1",
    )
    assert started.status_code == 201, started.content
    session = started.json()
    assert (session["status"], session["connector_id"], session["station_id"]) == (
        "active",
        connector["id"],
        station["id"],
    )
    assert session["tariff"]["currency"]
    assert driver_client.get(f"/api/v1/reservations/{reservation['id']}").json()["status"] == "fulfilled"
    assert driver_client.get(f"/api/v1/connectors/{connector['id']}").json()["status"] == "Charging"

    # ... and stops it.
    stopped = driver_client.post(f"/api/v1/sessions/{session['id']}/stop", {"meter_stop_wh": 138_500}, format="json")
    assert stopped.status_code == 200, stopped.content
    assert (stopped.json()["status"], stopped.json()["energy_wh"]) == ("completed", 18_500)
    assert driver_client.get(f"/api/v1/connectors/{connector['id']}").json()["status"] == "Available"

    # The events, in order.
    flow = [e for e in outbox() if e.type.startswith(FLOW_EVENTS)]
    station_created, reservation_created, session_started, charging, session_completed, *after = flow
    assert [e.type for e in flow[:5]] == [
        "station.created.v1",
        "reservation.created.v1",
        "session.started.v1",
        "station.status_changed.v1",
        "session.completed.v1",
    ]
    assert [e.type for e in after] == ["station.status_changed.v1"] * len(after)

    assert str(station_created.data.station_id) == station["id"]
    assert station_created.data.operator_id == operator_org.id
    assert [str(c.connector_id) for c in station_created.data.chargers[0].connectors] == [connector["id"]]

    assert str(reservation_created.data.reservation_id) == reservation["id"]
    assert str(reservation_created.data.connector_id) == connector["id"]
    assert reservation_created.data.user_id == driver.id
    assert iso(reservation_created.data.starts_at) == iso(starts_at)

    assert str(session_started.data.session_id) == session["id"]
    assert str(session_started.data.reservation_id) == reservation["id"]
    assert (session_started.data.user_id, str(session_started.data.station_id)) == (driver.id, station["id"])
    assert session_started.data.meter_start_wh == 120_000

    assert (charging.data.old_status, charging.data.new_status) == ("Available", "Charging")
    assert str(charging.data.connector_id) == connector["id"]

    assert str(session_completed.data.session_id) == session["id"]
    assert (session_completed.data.meter_stop_wh, session_completed.data.energy_wh) == (138_500, 18_500)
    assert session_completed.data.tariff == session_started.data.tariff
    assert [e.data.new_status for e in after][-1:] == ["Available"]

    # Notifications recorded what concerned the driver.
    notifications = driver_client.get("/api/v1/notifications")
    assert notifications.status_code == 200
    recorded = {n["event_type"] for n in notifications.json()["results"]}
    assert {"reservation.created.v1", "session.started.v1", "session.completed.v1"} <= recorded
