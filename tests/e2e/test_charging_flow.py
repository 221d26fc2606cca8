"""The whole charging flow over HTTP: an operator prices its network and opens a station, its charger reports
its meter with the operator's API key, a driver reserves a connector, charges on the reservation and stops;
the energy is the charger's; every context hears about it through the event bus."""

from datetime import UTC, datetime, timedelta

from rest_framework.test import APIClient

from apps.reservations.models import ChargingSession

FLOW_EVENTS = ("station.", "reservation.", "session.")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_station_reservation_session_flow(operator_client, operator_org, driver, driver_client, outbox):
    # The operator prices its network and opens a station with one DC charger.
    plan = operator_client.post(
        "/api/v1/pricing/rate-plans",
        {"name": "Standard", "currency": "EUR", "energy_price_per_kwh": 39, "is_default": True},
        format="json",
    )
    assert plan.status_code == 201, plan.content
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
    charger = station["chargers"][0]
    connector = charger["connectors"][0]

    # The charger gets its operator's API key and reports its meter: 120 kWh so far.
    issued = operator_client.post("/api/v1/auth/api-keys", {"name": "HH-DC-01 firmware"}, format="json")
    assert issued.status_code == 201, issued.content
    charger_client = APIClient()
    charger_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.json()['key']}")

    def report_meter(energy_wh: int) -> None:
        reading = {
            "charger_id": charger["id"],
            "connector_id": connector["id"],
            "ts": iso(datetime.now(UTC)),
            "kind": "meter",
            "energy_wh": energy_wh,
        }
        posted = charger_client.post("/api/v1/telemetry/events", reading, format="json")
        assert posted.status_code == 202, posted.content

    report_meter(120_000)

    # The driver reserves it from in a few minutes, for an hour.
    starts_at = datetime.now(UTC) + timedelta(minutes=3)
    reserved = driver_client.post(
        "/api/v1/reservations",
        {"connector_id": connector["id"], "starts_at": iso(starts_at), "ends_at": iso(starts_at + timedelta(hours=1))},
        format="json",
    )
    assert reserved.status_code == 201, reserved.content
    reservation = reserved.json()

    # Arriving a little early, the driver starts charging on the reservation, scanning the QR code; the
    # start meter is the charger's (a meter value from the driver is refused).
    start_body = {"code": connector["code"], "reservation_id": reservation["id"]}
    cheat = driver_client.post("/api/v1/sessions", {**start_body, "meter_start_wh": 138_000}, format="json")
    assert cheat.status_code == 400 and "meter_start_wh" in cheat.json()["errors"]
    started = driver_client.post("/api/v1/sessions", start_body, format="json", HTTP_IDEMPOTENCY_KEY="flow-start-1")
    assert started.status_code == 201, started.content
    session = started.json()
    assert session["meter_start_wh"] == 120_000
    assert (session["status"], session["connector_id"], session["station_id"]) == (
        "active",
        connector["id"],
        station["id"],
    )
    assert session["tariff"]["currency"]
    assert driver_client.get(f"/api/v1/reservations/{reservation['id']}").json()["status"] == "fulfilled"
    assert driver_client.get(f"/api/v1/connectors/{connector['id']}").json()["status"] == "Charging"

    # Half an hour later the charger's meter reads 138.5 kWh, and the driver stops: the energy is the charger's,
    # whatever figure the driver would send.
    ChargingSession.objects.filter(id=session["id"]).update(started_at=datetime.now(UTC) - timedelta(minutes=30))
    report_meter(138_500)
    stop_url = f"/api/v1/sessions/{session['id']}/stop"
    cheat = driver_client.post(stop_url, {"meter_stop_wh": 120_000}, format="json")
    assert cheat.status_code == 400 and "meter_stop_wh" in cheat.json()["errors"]
    stopped = driver_client.post(stop_url, {}, format="json")
    assert stopped.status_code == 200, stopped.content
    assert (stopped.json()["status"], stopped.json()["energy_wh"]) == ("completed", 18_500)
    assert driver_client.get(f"/api/v1/connectors/{connector['id']}").json()["status"] == "Available"

    # The events, in order.
    flow = [e for e in outbox() if e.type.startswith(FLOW_EVENTS)]
    station_created, reservation_created, session_started, charging, session_stopped, session_completed, *after = flow
    assert [e.type for e in flow[:6]] == [
        "station.created.v1",
        "reservation.created.v1",
        "session.started.v1",
        "station.status_changed.v1",
        "session.stopped.v1",
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

    assert (str(session_stopped.data.session_id), session_stopped.data.energy_status) == (session["id"], "metered")
    assert str(session_completed.data.session_id) == session["id"]
    assert (session_completed.data.meter_stop_wh, session_completed.data.energy_wh) == (138_500, 18_500)
    assert session_completed.data.tariff == session_started.data.tariff
    assert [e.data.new_status for e in after][-1:] == ["Available"]

    # Notifications recorded what concerned the driver.
    notifications = driver_client.get("/api/v1/notifications")
    assert notifications.status_code == 200
    recorded = {n["event_type"] for n in notifications.json()["results"]}
    assert {"reservation.created.v1", "session.started.v1", "session.completed.v1"} <= recorded
