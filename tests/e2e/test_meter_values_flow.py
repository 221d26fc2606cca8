"""Meter values during a charging session, over HTTP: an operator opens a station and gives its charger an
API key; a driver starts a session; the charger posts meter values with its key; the driver watches the
energy grow and stops without a meter reading: the session is billed from the charger's last reading."""

from datetime import UTC, datetime, timedelta

from rest_framework.test import APIClient


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_charger_meter_values_drive_the_session_energy(operator_client, driver_client, outbox):
    # The operator opens a station with one AC charger, and creates the API key the charger will hold.
    created = operator_client.post(
        "/api/v1/stations",
        {
            "name": "Market Square",
            "address": "Marktplatz 3, Leipzig",
            "latitude": 51.34,
            "longitude": 12.375,
            "timezone": "Europe/Berlin",
            "chargers": [{"serial": "MS-AC-01", "max_power_kw": 22, "connectors": [{"number": 1, "type": "TYPE2"}]}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    station = created.json()
    charger = station["chargers"][0]
    connector = charger["connectors"][0]

    issued = operator_client.post("/api/v1/auth/api-keys", {"name": "MS-AC-01 firmware"}, format="json")
    assert issued.status_code == 201, issued.content
    charger_client = APIClient()
    charger_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.json()['key']}")

    # The operator prices its network (sessions are refused on a station without a tariff).
    plan = operator_client.post(
        "/api/v1/pricing/rate-plans",
        {"name": "AC", "currency": "EUR", "energy_price_per_kwh": 35, "is_default": True},
        format="json",
    )
    assert plan.status_code == 201, plan.content

    # The driver plugs in; the charger reports its meter at 120 kWh; the session starts from that reading.
    plugged = {
        "charger_id": charger["id"],
        "connector_id": connector["id"],
        "ts": iso(datetime.now(UTC) - timedelta(seconds=30)),
        "kind": "meter",
        "energy_wh": 120_000,
    }
    assert charger_client.post("/api/v1/telemetry/events", plugged, format="json").status_code == 202
    started = driver_client.post(
        "/api/v1/sessions", {"connector_id": connector["id"]}, format="json", HTTP_IDEMPOTENCY_KEY="meter-flow-start-1"
    )
    assert started.status_code == 201, started.content
    session = started.json()
    assert (session["status"], session["live_energy_wh"], session["meter_start_wh"]) == ("active", None, 120_000)
    started_at = datetime.fromisoformat(session["started_at"])

    # The charger reports meter values while it charges, as one batch, with its API key.
    def reading(seconds: int, energy_wh: int, power_w: int) -> dict:
        return {
            "charger_id": charger["id"],
            "connector_id": connector["id"],
            "ts": iso(started_at + timedelta(seconds=seconds)),
            "kind": "meter",
            "energy_wh": energy_wh,
            "power_w": power_w,
        }

    posted = charger_client.post(
        "/api/v1/telemetry/events",
        [reading(10, 120_050, 11_000), reading(70, 120_420, 22_000), reading(130, 120_790, 22_000)],
        format="json",
    )
    assert posted.status_code == 202, posted.content
    assert posted.json() == {"accepted": 3, "duplicates": 0}

    # While it is active, the driver sees the energy so far.
    live = driver_client.get(f"/api/v1/sessions/{session['id']}")
    assert live.status_code == 200, live.content
    assert (live.json()["status"], live.json()["live_energy_wh"]) == ("active", 790)

    # A later reading moves it on.
    more = charger_client.post("/api/v1/telemetry/events", reading(190, 121_160, 22_000), format="json")
    assert more.status_code == 202, more.content
    assert driver_client.get(f"/api/v1/sessions/{session['id']}").json()["live_energy_wh"] == 1_160

    # The station's latest state shows the charger's newest reading.
    latest = driver_client.get(f"/api/v1/telemetry/stations/{station['id']}/latest")
    assert latest.status_code == 200, latest.content
    [charger_latest] = latest.json()["chargers"]
    assert (charger_latest["charger_id"], charger_latest["health"]) == (charger["id"], "online")
    [connector_latest] = charger_latest["connectors"]
    meter = connector_latest["latest"]["meter"]
    assert connector_latest["connector_id"] == connector["id"]
    assert (meter["energy_wh"], meter["power_w"]) == (121_160, 22_000)
    assert datetime.fromisoformat(meter["ts"]) == started_at + timedelta(seconds=190)

    # The driver stops without a meter reading: the session takes the charger's last one.
    stopped = driver_client.post(f"/api/v1/sessions/{session['id']}/stop", {}, format="json")
    assert stopped.status_code == 200, stopped.content
    assert (stopped.json()["status"], stopped.json()["meter_stop_wh"]) == ("completed", 121_160)
    assert (stopped.json()["energy_wh"], stopped.json()["live_energy_wh"]) == (1_160, None)

    # Telemetry told the others once per batch, never once per reading; the session completed on that reading.
    ingested = outbox("telemetry.ingested.v1")
    assert [e.data.count for e in ingested] == [1, 3, 1]
    assert {str(c) for e in ingested for c in e.data.charger_ids} == {charger["id"]}
    [completed] = outbox("session.completed.v1")
    assert (completed.data.meter_stop_wh, completed.data.energy_wh) == (121_160, 1_160)
