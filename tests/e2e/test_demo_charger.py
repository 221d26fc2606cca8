"""The demo's simulated chargers meter a demo session over the telemetry API, with their operator's key:
the energy rises while it runs, and a stop completes it with the charger's reading (never awaits forever)."""

import time

import requests

from apps.identity.models import User
from apps.reservations.demo_charger import SimulatedChargers
from apps.reservations.models import Connector
from evcharge.platform.management.commands.seed_demo import seed_all
from tests.helpers import speak_ocpp


def http() -> requests.Session:
    web = requests.Session()
    web.headers["X-Forwarded-Proto"] = "https"  # as the TLS-ending ingress says (SECURE_SSL_REDIRECT is on)
    return web


def demo_with_chargers(live_server, client_for):
    context = seed_all({"simulate_chargers": True, "base_url": live_server.url})
    chargers = SimulatedChargers(base_url=live_server.url, keys=context["charger_keys"])
    driver = client_for(User.objects.get(email="driver@evcharge.test"))
    code = context["stations"]["available_connector"]["code"]
    return chargers, driver, code


def test_a_running_demo_session_is_metered_by_its_simulated_charger(live_server, client_for):
    chargers, driver, code = demo_with_chargers(live_server, client_for)
    session = driver.post("/api/v1/sessions", {"code": code}, format="json").json()
    assert session["meter_start_wh"] is not None, session  # the demo connector had a first reading

    seen = []
    with http() as web:
        for _ in range(2):
            time.sleep(1.1)
            assert chargers.tick(web) >= 1
            seen.append(driver.get(f"/api/v1/sessions/{session['id']}").json()["live_energy_wh"])
    assert 0 < seen[0] < seen[1]

    stopped = driver.post(f"/api/v1/sessions/{session['id']}/stop").json()
    assert (stopped["energy_status"], stopped["energy_wh"]) == ("metered", seen[1])


def test_a_session_stopped_before_any_reading_is_completed_by_the_next_one(live_server, client_for):
    chargers, driver, code = demo_with_chargers(live_server, client_for)
    session = driver.post("/api/v1/sessions", {"code": code}, format="json").json()
    stopped = driver.post(f"/api/v1/sessions/{session['id']}/stop")
    assert stopped.status_code == 200 and stopped.json()["energy_status"] == "awaiting_meter"

    with http() as web:
        chargers.tick(web)
    after = driver.get(f"/api/v1/sessions/{session['id']}").json()
    assert (after["energy_status"], after["energy_wh"]) == ("metered", 0)


def test_a_demo_charger_given_ocpp_credentials_is_left_to_its_ocpp_connection(live_server, client_for, monkeypatch):
    chargers, driver, code = demo_with_chargers(live_server, client_for)
    session = driver.post("/api/v1/sessions", {"code": code}, format="json").json()
    speak_ocpp(monkeypatch, *Connector.objects.values_list("charger_id", flat=True))

    with http() as web:
        time.sleep(1.1)
        assert chargers.tick(web) == 0  # no reading refused by the API: none sent

    assert driver.get(f"/api/v1/sessions/{session['id']}").json()["live_energy_wh"] in (None, 0)
