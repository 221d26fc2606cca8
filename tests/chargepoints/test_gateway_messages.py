# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""What a charger's messages do, outside transactions: status, data transfer, firmware and diagnostics status,
malformed frames, and a central call in flight while the charger calls."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call

from apps.chargepoints.models import ChargeBox
from tests.bus_fixtures import wait_until
from tests.chargepoints.gateway_fixtures import (  # noqa: F401  (fixtures)
    boot,
    connect_charger,
    gateway,
    ocpp_loop,
    ocpp_station,
)

pytestmark = pytest.mark.postgres


def connector_status(client, station_id: str, connector_id: str) -> str:
    detail = client.get(f"/api/v1/stations/{station_id}")
    assert detail.status_code == 200, detail.content
    return next(c["status"] for ch in detail.json()["chargers"] for c in ch["connectors"] if c["id"] == connector_id)


def test_status_notifications_move_the_connector_and_the_charge_box(
    ocpp_station, connect_charger, operator_client, outbox
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    station_id, connector = ocpp_station["station"]["id"], ocpp_station["connectors"][0]

    for _ in range(2):  # a charger repeats its status after a reconnect: one change, one event
        charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
    charger.call(call.StatusNotification(connector_id=0, error_code="NoError", status="Available"))

    assert connector_status(operator_client, station_id, connector["id"]) == "Preparing"
    changes = [e.data for e in outbox("station.status_changed.v1") if str(e.data.connector_id) == connector["id"]]
    assert [(c.old_status, c.new_status) for c in changes] == [("Available", "Preparing")]
    assert ChargeBox.objects.get(charge_box_id=ocpp_station["serial"]).status == "Available"


def test_a_fault_makes_the_charger_faulted_and_its_connectors_unavailable(
    ocpp_station, connect_charger, operator_client
):
    charger = connect_charger(ocpp_station["serial"])
    answer = charger.call(
        call.StatusNotification(
            connector_id=2, error_code="GroundFailure", status="Faulted", info="RCD tripped", vendor_error_code="E42"
        )
    )
    assert answer is not None

    detail = operator_client.get(f"/api/v1/stations/{ocpp_station['station']['id']}").json()
    [seen] = detail["chargers"]
    assert seen["health"] == "faulted"
    faulted = next(c for c in seen["connectors"] if c["id"] == ocpp_station["connectors"][1]["id"])
    assert (faulted["status"], faulted["ocpp_status"]) == ("Unavailable", "Faulted")


def test_a_status_for_a_connector_the_charger_does_not_have_is_answered(ocpp_station, connect_charger):
    charger = connect_charger(ocpp_station["serial"])
    assert charger.call(call.StatusNotification(connector_id=9, error_code="NoError", status="Available")) is not None


def test_data_transfer_is_unknown_vendor_and_firmware_and_diagnostics_status_are_recorded(
    ocpp_station, connect_charger
):
    charger = connect_charger(ocpp_station["serial"])
    assert charger.call(call.DataTransfer(vendor_id="com.acme", message_id="x", data="{}")).status == "UnknownVendorId"
    charger.call(call.FirmwareStatusNotification(status="Downloading"))
    charger.call(call.DiagnosticsStatusNotification(status="Uploaded"))

    recorded = ChargeBox.objects.get(charge_box_id=ocpp_station["serial"])
    assert (recorded.firmware_status, recorded.diagnostics_status) == ("Downloading", "Uploaded")


MALFORMED = [
    ('[2, "m-missing", "BootNotification", {"chargePointVendor": "Acme"}]', "OccurenceConstraintViolation"),
    ('[2, "m-type", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "X"}]', "TypeConstraintViolation"),
    (
        '[2, "m-extra", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B", "colour": "red"}]',
        "FormationViolation",
    ),
    ('[2, "m-action", "MakeCoffee", {}]', "NotImplemented"),
    ('[2, "m-reset", "Reset", {"type": "Soft"}]', "NotSupported"),  # a central system's call, sent by a charger
    ('[2, "m-short", "Heartbeat"]', "FormationViolation"),
    ('[2, "m-list", "Heartbeat", []]', "FormationViolation"),
    ('[2, "m-broken", "Heartbeat", {]', None),  # not JSON: no message id can be read, nothing to answer
    ("hello", None),
    ("[]", None),
]


def test_malformed_frames_get_the_call_error_ocpp_names_and_the_connection_stays(ocpp_station, connect_charger):
    charger = connect_charger(ocpp_station["serial"])

    for frame, code in MALFORMED:
        charger.send_raw(frame)
        if code is not None:
            unique_id = json.loads(frame)[1]
            answer = wait_until(lambda uid=unique_id: charger.cp.answers.get(uid), message=f"an answer to {frame}")
            assert (answer.message_type_id, answer.error_code) == (4, code), frame
        # The connection stays: the charger's next call is answered.
        assert charger.call(call.Heartbeat()).current_time
    assert not charger.closed


def test_a_central_call_and_a_charger_call_in_flight_at_once_both_complete(ocpp_station, connect_charger, gateway):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    charger.cp.answer_delay = 1.0  # the charger takes its time to answer the central system
    [handler] = [gateway._held[ocpp_station["serial"]]]

    central = charger.loop.submit(handler.send_command("GetConfiguration", {"key": ["HeartbeatInterval"]}))
    wait_until(lambda: charger.cp.received, message="the charger got GetConfiguration")

    started = time.monotonic()
    assert charger.call(call.DataTransfer(vendor_id="com.acme")).status == "UnknownVendorId"
    assert charger.call(call.Heartbeat()).current_time
    assert time.monotonic() - started < 1.0
    assert not central.done()

    status, answer = central.result(timeout=5)
    assert status == "accepted"
    assert answer["configurationKey"] == [{"key": "HeartbeatInterval", "readonly": False}]


def test_a_central_call_the_charger_does_not_answer_times_out_and_one_it_refuses_fails(
    ocpp_station, connect_charger, gateway
):
    charger = connect_charger(ocpp_station["serial"])
    handler = gateway._held[ocpp_station["serial"]]
    handler._response_timeout = 0.5
    charger.cp.answer_delay = 2.0
    assert charger.loop.run(handler.send_command("Reset", {"type": "Soft"}))[0] == "timeout"

    charger.cp.answer_delay = 0
    status, answer = charger.loop.run(handler.send_command("ClearCache", {}))  # the charger implements no ClearCache
    assert (status, answer["errorCode"]) == ("failed", "NotImplemented")
    status, answer = charger.loop.run(handler.send_command("UnlockConnector", {"connectorId": 1}))
    assert (status, answer) == ("rejected", {"status": "NotSupported"})


def test_meter_values_reach_telemetry_in_platform_units(ocpp_station, connect_charger, operator_client):
    charger = connect_charger(ocpp_station["serial"])
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    charger.call(
        call.MeterValues(
            connector_id=1,
            meter_value=[
                {
                    "timestamp": at.isoformat().replace("+00:00", "Z"),
                    "sampledValue": [
                        {"value": "120.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                    ],
                }
            ],
        )
    )

    latest = operator_client.get(f"/api/v1/telemetry/stations/{ocpp_station['station']['id']}/latest")
    assert latest.status_code == 200, latest.content
    [seen] = latest.json()["chargers"]
    connector = next(c for c in seen["connectors"] if c["connector_id"] == ocpp_station["connectors"][0]["id"])
    meter = connector["latest"]["meter"]
    assert (meter["energy_wh"], meter["power_w"]) == (120_500, 7_400)
    assert datetime.fromisoformat(meter["ts"]) == at
