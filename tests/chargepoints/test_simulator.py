# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""The charger simulator (manage.py ocpp_simulate) charges through a real gateway: its RFID start becomes the
driver's session, its meter values rise, and its stop completes the session with the energy it metered."""

import time

import pytest

from apps.chargepoints.simulator import ChargerState, run_simulator
from tests.chargepoints.gateway_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    gateway,
    ocpp_loop,
    ocpp_station,
)

pytestmark = pytest.mark.postgres


def wait_for(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def test_the_simulator_charges_a_driver_through_the_gateway(ocpp_loop, gateway, ocpp_station, driver_client):
    assert driver_client.post("/api/v1/auth/id-tags", {"tag": "SIM-TAG-1"}, format="json").status_code == 201
    state = ChargerState(connectors=2, power_kw=22, meter_interval=0.2)

    running = ocpp_loop.submit(
        run_simulator(
            url=f"{gateway.url}/ocpp",
            charge_box_id=ocpp_station["serial"],
            password=PASSWORD,
            state=state,
            id_tag="SIM-TAG-1",
            charge_seconds=1.5,
        )
    )
    try:
        active = wait_for(lambda: driver_client.get("/api/v1/sessions", {"status": "active"}).json()["results"])
        assert active[0]["meter_start_wh"] == 1_000_000
        done = wait_for(lambda: driver_client.get("/api/v1/sessions", {"status": "completed"}).json()["results"])
    finally:
        running.cancel()

    session = done[0]
    assert session["energy_status"] == "metered"
    assert session["energy_wh"] == state.meter_wh[1] - 1_000_000 > 0
