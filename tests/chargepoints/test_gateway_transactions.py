# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""RFID tags and transactions over OCPP: Authorize, StartTransaction → MeterValues → StopTransaction driving the
driver's session and invoice, and the replays a charger makes after a reconnect."""

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call

from apps.chargepoints.models import OcppTransaction
from tests.chargepoints.gateway_fixtures import (  # noqa: F401  (fixtures)
    boot,
    connect_charger,
    gateway,
    ocpp_loop,
    ocpp_station,
)

pytestmark = pytest.mark.postgres


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def register_tag(client, id_tag: str, **extra) -> dict:
    created = client.post("/api/v1/auth/id-tags", {"tag": id_tag, **extra}, format="json")
    assert created.status_code == 201, created.content
    return created.json()


def start(charger, id_tag: str, meter_start: int, at: datetime, connector: int = 1):
    return charger.call(
        call.StartTransaction(connector_id=connector, id_tag=id_tag, meter_start=meter_start, timestamp=iso(at))
    )


def stop(charger, transaction_id: int, meter_stop: int, at: datetime, **extra):
    return charger.call(
        call.StopTransaction(meter_stop=meter_stop, timestamp=iso(at), transaction_id=transaction_id, **extra)
    )


def energy_meter(connector: int, transaction_id: int, at: datetime, kwh: str, kw: str) -> call.MeterValues:
    return call.MeterValues(
        connector_id=connector,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": iso(at),
                "sampledValue": [
                    {"value": kwh, "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                    {"value": kw, "measurand": "Power.Active.Import", "unit": "kW"},
                    {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
                    {"value": "57", "measurand": "SoC", "unit": "Percent", "location": "EV"},
                ],
            }
        ],
    )


def session_of(transaction_id: int) -> str:
    return str(OcppTransaction.objects.get(id=transaction_id).session_id)


def test_authorize_answers_for_good_unknown_blocked_and_expired_tags(ocpp_station, connect_charger, driver_client):
    from apps.identity.models import IdTag

    register_tag(driver_client, "RFID-GOOD-1")
    register_tag(driver_client, "RFID-BLOCKED-1")
    IdTag.objects.filter(tag="RFID-BLOCKED-1").update(status=IdTag.Status.BLOCKED)  # staff block it in the admin
    register_tag(driver_client, "RFID-OLD-1", expires_at=iso(datetime.now(UTC) - timedelta(days=1)))
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)

    assert charger.call(call.Authorize(id_tag="RFID-GOOD-1")).id_tag_info["status"] == "Accepted"
    assert charger.call(call.Authorize(id_tag="NOBODY-1")).id_tag_info["status"] == "Invalid"
    assert charger.call(call.Authorize(id_tag="RFID-BLOCKED-1")).id_tag_info["status"] == "Blocked"
    assert charger.call(call.Authorize(id_tag="RFID-OLD-1")).id_tag_info["status"] == "Expired"


def test_start_meter_values_stop_bill_the_energy_the_charger_measured(
    ocpp_station, connect_charger, driver_client, outbox
):
    register_tag(driver_client, "RFID-FLOW-1")
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    # The platform trusts a charger's clock within a minute of its own; a 22 kW connector for 50 seconds.
    began = datetime.now(UTC) - timedelta(seconds=50)

    started = start(charger, "RFID-FLOW-1", meter_start=1_000, at=began)
    assert started.id_tag_info["status"] == "Accepted"
    session_id = session_of(started.transaction_id)
    live = driver_client.get(f"/api/v1/sessions/{session_id}")
    assert live.status_code == 200, live.content
    assert (live.json()["status"], live.json()["meter_start_wh"]) == ("active", 1_000)

    charger.call(energy_meter(1, started.transaction_id, began + timedelta(seconds=30), "1.120", "14.4"))
    assert driver_client.get(f"/api/v1/sessions/{session_id}").json()["live_energy_wh"] == 120

    stopped = stop(charger, started.transaction_id, 1_200, began + timedelta(seconds=50), id_tag="RFID-FLOW-1")
    assert stopped.id_tag_info["status"] == "Accepted"
    done = driver_client.get(f"/api/v1/sessions/{session_id}").json()
    assert (done["status"], done["meter_stop_wh"], done["energy_wh"]) == ("completed", 1_200, 200)

    [invoice] = [
        i for i in driver_client.get("/api/v1/billing/invoices").json()["results"] if i["session_id"] == session_id
    ]
    energy = next(line for line in invoice["lines"] if line["kind"] == "energy")
    assert energy["amount"] == 7  # 0.2 kWh at 35 a kWh
    assert invoice["total_amount"] == sum(line["amount"] for line in invoice["lines"]) == 7
    [completed] = outbox("session.completed.v1")
    assert (completed.data.meter_start_wh, completed.data.meter_stop_wh) == (1_000, 1_200)


def test_a_start_and_a_stop_repeated_after_a_reconnect_change_nothing(
    ocpp_station, connect_charger, driver_client, outbox
):
    register_tag(driver_client, "RFID-REPLAY-1")
    began = datetime.now(UTC) - timedelta(seconds=50)
    first = connect_charger(ocpp_station["serial"])
    original = start(first, "RFID-REPLAY-1", meter_start=500, at=began)
    first.close()

    # The charger lost its link before it saw the answer, and sends the same StartTransaction again.
    again = connect_charger(ocpp_station["serial"])
    replayed = start(again, "RFID-REPLAY-1", meter_start=500, at=began)
    assert replayed.transaction_id == original.transaction_id
    assert replayed.id_tag_info["status"] == "Accepted"
    assert OcppTransaction.objects.count() == 1
    assert len(outbox("session.started.v1")) == 1

    stop(again, original.transaction_id, 600, began + timedelta(seconds=40))
    again.close()
    third = connect_charger(ocpp_station["serial"])
    assert stop(third, original.transaction_id, 600, began + timedelta(seconds=40)).id_tag_info is None
    assert stop(third, 987_654_321, 100, began).id_tag_info is None  # a transaction nobody knows: Accepted
    assert len(outbox("session.completed.v1")) == 1
    assert driver_client.get(f"/api/v1/sessions/{session_of(original.transaction_id)}").json()["energy_wh"] == 100


def test_two_transactions_in_a_row_get_distinct_ids_and_sessions(ocpp_station, connect_charger, driver_client):
    register_tag(driver_client, "RFID-TWICE-1")
    charger = connect_charger(ocpp_station["serial"])
    began = datetime.now(UTC) - timedelta(seconds=55)

    ids = []
    for round_number in range(2):
        at = began + timedelta(seconds=20 * round_number)
        started = start(charger, "RFID-TWICE-1", meter_start=10_000 * round_number, at=at)
        assert started.id_tag_info["status"] == "Accepted"
        stop(charger, started.transaction_id, 10_000 * round_number + 50, at + timedelta(seconds=15))
        ids.append(started.transaction_id)

    assert ids[0] != ids[1]
    sessions = [session_of(i) for i in ids]
    assert sessions[0] != sessions[1]
    for session_id in sessions:
        assert driver_client.get(f"/api/v1/sessions/{session_id}").json()["energy_wh"] == 50


def test_a_start_for_an_unknown_tag_gets_a_transaction_id_and_invalid(ocpp_station, connect_charger, outbox):
    charger = connect_charger(ocpp_station["serial"])
    started = start(charger, "NOBODY-2", meter_start=0, at=datetime.now(UTC))

    assert started.id_tag_info["status"] == "Invalid"
    assert isinstance(started.transaction_id, int)
    assert OcppTransaction.objects.get(id=started.transaction_id).session_id is None
    assert outbox("session.started.v1") == []


def test_a_driver_already_charging_elsewhere_is_answered_concurrent_tx(ocpp_station, connect_charger, driver_client):
    register_tag(driver_client, "RFID-BUSY-1")
    charger = connect_charger(ocpp_station["serial"])
    now = datetime.now(UTC)
    assert start(charger, "RFID-BUSY-1", meter_start=0, at=now, connector=1).id_tag_info["status"] == "Accepted"

    second = start(charger, "RFID-BUSY-1", meter_start=0, at=now, connector=2)
    assert second.id_tag_info["status"] == "ConcurrentTx"
    assert OcppTransaction.objects.get(id=second.transaction_id).session_id is None
