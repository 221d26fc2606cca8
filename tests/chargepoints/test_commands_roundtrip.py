# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""Remote commands over a real WebSocket: the API's command reaches the charger through the gateway holding it
(embedded routing: the gateway polls for its chargers' pending commands) and the charger's answer is recorded.
Remote start and stop of a driver's session go the same way."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from apps.chargepoints.models import RemoteCommand
from apps.reservations.models import ChargingSession
from tests.bus_fixtures import wait_until
from tests.chargepoints import gateway_fixtures
from tests.chargepoints.gateway_fixtures import (  # noqa: F401  (fixtures)
    boot,
    connect_charger,
    gateway,
    ocpp_loop,
    ocpp_station,
)

pytestmark = pytest.mark.postgres


def now(minutes_ago: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


FINAL = {"accepted", "rejected", "timeout", "offline", "failed"}


class CommandCharger(gateway_fixtures.SimulatedCharger):
    """Also answers remote starts and stops, availability and reservations (`status_for[action]`, else Accepted)."""

    status_for: dict[str, str] = {}

    async def _status(self, action: str, payload: dict) -> str:
        await self._answer(action, payload)
        return self.status_for.get(action, "Accepted")

    @on(Action.remote_start_transaction)
    async def on_remote_start(self, **payload):
        return call_result.RemoteStartTransaction(status=await self._status("RemoteStartTransaction", payload))

    @on(Action.remote_stop_transaction)
    async def on_remote_stop(self, **payload):
        return call_result.RemoteStopTransaction(status=await self._status("RemoteStopTransaction", payload))

    @on(Action.change_availability)
    async def on_change_availability(self, **payload):
        return call_result.ChangeAvailability(status=await self._status("ChangeAvailability", payload))

    @on(Action.reserve_now)
    async def on_reserve_now(self, **payload):
        return call_result.ReserveNow(status=await self._status("ReserveNow", payload))

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, **payload):
        return call_result.CancelReservation(status=await self._status("CancelReservation", payload))


@pytest.fixture(autouse=True)
def _command_chargers(monkeypatch):
    CommandCharger.status_for = {}
    monkeypatch.setattr(gateway_fixtures, "SimulatedCharger", CommandCharger)


def command_outcome(client, ocpp_station, command_id):
    def answered():
        body = client.get(f"/api/v1/chargers/{ocpp_station['charger']['id']}/commands/{command_id}").json()
        return body if body["status"] in FINAL else None

    return wait_until(answered, message=f"command {command_id} answered")


def post_command(client, ocpp_station, action, payload):
    response = client.post(
        f"/api/v1/chargers/{ocpp_station['charger']['id']}/commands",
        {"action": action, "payload": payload},
        format="json",
    )
    assert response.status_code == 202, response.content
    return response.json()


def test_a_command_reaches_the_charger_and_its_answer_is_recorded(
    operator_client, ocpp_station, connect_charger, gateway
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)

    posted = post_command(operator_client, ocpp_station, "Reset", {"type": "Soft"})
    assert posted["status"] in ("pending", "sent", "accepted")
    done = command_outcome(operator_client, ocpp_station, posted["id"])

    assert (done["status"], done["response"]) == ("accepted", {"status": "Accepted"})
    assert done["sent_at"] and done["answered_at"]
    assert charger.cp.received == [("Reset", {"type": "Soft"})]
    assert RemoteCommand.objects.get(id=posted["id"]).gateway_instance == gateway.instance_id


def test_a_refusal_is_rejected_with_the_chargers_answer_and_a_command_is_sent_once(
    operator_client, ocpp_station, connect_charger
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)

    done = command_outcome(
        operator_client,
        ocpp_station,
        post_command(operator_client, ocpp_station, "UnlockConnector", {"connectorId": 1})["id"],
    )

    assert (done["status"], done["response"]) == ("rejected", {"status": "NotSupported"})
    assert charger.cp.received == [("UnlockConnector", {"connector_id": 1})]


def test_a_charger_that_does_not_answer_in_time_gives_timeout(operator_client, ocpp_station, connect_charger):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    charger.cp.answer_delay = 8  # the test gateway waits 5 s for an answer

    done = command_outcome(
        operator_client, ocpp_station, post_command(operator_client, ocpp_station, "Reset", {"type": "Hard"})["id"]
    )

    assert done["status"] == "timeout"


def test_a_remote_start_makes_one_session_active_on_the_chargers_start_and_a_remote_stop_completes_it(
    driver, driver_client, ocpp_station, connect_charger
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    connector = ocpp_station["connectors"][0]

    started = driver_client.post("/api/v1/sessions", {"connector_id": connector["id"]}, format="json")

    assert started.status_code == 201, started.content
    session = started.json()
    assert session["status"] == "pending"
    command = wait_until(
        lambda: RemoteCommand.objects.filter(session_id=session["id"], status="accepted").first(),
        message="RemoteStartTransaction accepted",
    )
    assert command.action == "RemoteStartTransaction" and command.payload["connectorId"] == 1
    id_tag = command.payload["idTag"]

    answer = charger.call(
        call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=1000, timestamp=now(minutes_ago=10))
    )

    assert answer.id_tag_info["status"] == "Accepted"
    got = driver_client.get(f"/api/v1/sessions/{session['id']}").json()
    assert (got["status"], got["meter_start_wh"]) == ("active", 1000)
    assert ChargingSession.objects.count() == 1

    stopping = driver_client.post(f"/api/v1/sessions/{session['id']}/stop", {}, format="json")

    assert stopping.status_code == 202, stopping.content
    stop_command = wait_until(
        lambda: RemoteCommand.objects.filter(
            session_id=session["id"], action="RemoteStopTransaction", status="accepted"
        ).first(),
        message="RemoteStopTransaction accepted",
    )
    assert stop_command.payload == {"transactionId": answer.transaction_id}
    charger.call(call.StopTransaction(meter_stop=2000, timestamp=now(), transaction_id=answer.transaction_id))
    done = driver_client.get(f"/api/v1/sessions/{session['id']}").json()
    assert (done["status"], done["energy_wh"]) == ("completed", 1000)


def test_a_rejected_remote_start_cancels_the_pending_session(driver_client, ocpp_station, connect_charger):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    CommandCharger.status_for = {"RemoteStartTransaction": "Rejected"}

    session = driver_client.post(
        "/api/v1/sessions", {"connector_id": ocpp_station["connectors"][0]["id"]}, format="json"
    ).json()

    wait_until(
        lambda: driver_client.get(f"/api/v1/sessions/{session['id']}").json()["status"] == "cancelled",
        message="the session cancelled",
    )
    command = RemoteCommand.objects.get(session_id=session["id"])
    assert (command.status, command.response) == ("rejected", {"status": "Rejected"})
    assert uuid.UUID(session["id"]) == command.session_id
