# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""What happens to commands nobody answers (the sweep), and the commands other contexts' events send to chargers:
ChangeAvailability when a station is disabled or enabled, ReserveNow and CancelReservation for reservations."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.chargepoints.models import ChargeBox, OcppReservation, RemoteCommand
from apps.chargepoints.services import commands
from apps.chargepoints.tasks import sweep_commands
from tests.bus_fixtures import wait_until
from tests.chargepoints.gateway_fixtures import (  # noqa: F401  (fixtures)
    boot,
    connect_charger,
    gateway,
    ocpp_loop,
    ocpp_station,
)
from tests.chargepoints.test_commands_roundtrip import CommandCharger, _command_chargers  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres


def command(box_id, *, status="pending", age_s=0.0, sent_age_s=None, **fields):
    row = RemoteCommand.objects.create(
        charge_box_id=box_id, action="Reset", payload={"type": "Soft"}, status=status, **fields
    )
    now = timezone.now()
    RemoteCommand.objects.filter(id=row.id).update(
        created_at=now - timedelta(seconds=age_s),
        sent_at=None if sent_age_s is None else now - timedelta(seconds=sent_age_s),
    )
    return row.id


def test_commands_no_gateway_answered_time_out_and_recent_ones_wait(ocpp_station, settings):
    settings.OCPP_CALL_TIMEOUT_S = 10
    box_id = uuid.UUID(ocpp_station["charger"]["id"])
    lost_in_flight = command(box_id, status="sent", age_s=25, sent_age_s=21)
    never_sent = command(box_id, status="pending", age_s=21)
    still_sending = command(box_id, status="sent", age_s=25, sent_age_s=5)
    just_asked = command(box_id, status="pending", age_s=1)
    answered = command(box_id, status="accepted", age_s=100, sent_age_s=100)

    result = sweep_commands()

    status = dict(RemoteCommand.objects.values_list("id", "status"))
    assert status[lost_in_flight] == status[never_sent] == "timeout"
    assert (status[still_sending], status[just_asked], status[answered]) == ("sent", "pending", "accepted")
    assert result["timed_out"] == 2


def test_an_accepted_remote_start_without_start_transaction_in_time_cancels_the_pending_session(
    driver_client, ocpp_station, settings
):
    ChargeBox.objects.filter(id=ocpp_station["charger"]["id"]).update(
        connected=True, gateway_instance="gw-test", last_seen_at=timezone.now()
    )
    session = driver_client.post(
        "/api/v1/sessions", {"connector_id": ocpp_station["connectors"][0]["id"]}, format="json"
    ).json()
    assert session["status"] == "pending"
    start = RemoteCommand.objects.get(session_id=session["id"])
    commands.command_mark_sent(command_id=start.id, gateway_instance="gw-test")
    commands.command_record_answer(command_id=start.id, status="accepted", response={"status": "Accepted"})

    sweep_commands()
    assert driver_client.get(f"/api/v1/sessions/{session['id']}").json()["status"] == "pending"

    RemoteCommand.objects.filter(id=start.id).update(
        created_at=timezone.now() - timedelta(seconds=settings.OCPP_REMOTE_START_TIMEOUT_S + 1)
    )
    sweep_commands()

    got = driver_client.get(f"/api/v1/sessions/{session['id']}").json()
    assert (got["status"], got["cancel_reason"]) == ("cancelled", commands.NO_START_TRANSACTION)


def test_disabling_a_station_makes_its_connected_charger_inoperative_and_enabling_operative_again(
    operator_client, ocpp_station, connect_charger
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    settings_url = f"/api/v1/admin/stations/{ocpp_station['station']['id']}/settings"

    assert operator_client.put(settings_url, {"enabled": False}, format="json").status_code == 200
    wait_until(lambda: charger.cp.received, message="ChangeAvailability received")
    assert operator_client.put(settings_url, {"enabled": True}, format="json").status_code == 200
    wait_until(lambda: len(charger.cp.received) == 2, message="the second ChangeAvailability received")

    assert charger.cp.received == [
        ("ChangeAvailability", {"connector_id": 0, "type": "Inoperative"}),
        ("ChangeAvailability", {"connector_id": 0, "type": "Operative"}),
    ]
    wait_until(lambda: RemoteCommand.objects.filter(status="accepted").count() == 2)
    assert set(RemoteCommand.objects.values_list("requested_by", flat=True)) == {None}


def reserve(driver_client, connector_id, *, starts_in: timedelta, length=timedelta(minutes=30)):
    starts_at = datetime.now(UTC) + starts_in
    response = driver_client.post(
        "/api/v1/reservations",
        {"connector_id": connector_id, "starts_at": starts_at.isoformat(), "ends_at": (starts_at + length).isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_reservation_starting_soon_is_reserved_on_the_charger_and_cancelling_it_cancels_it_there(
    driver_client, ocpp_station, connect_charger
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)

    reservation = reserve(driver_client, ocpp_station["connectors"][1]["id"], starts_in=timedelta(minutes=2))

    wait_until(lambda: charger.cp.received, message="ReserveNow received")
    ((action, payload),) = charger.cp.received
    ocpp_id = OcppReservation.objects.get(reservation_id=reservation["id"]).id
    assert action == "ReserveNow"
    assert payload["connector_id"] == 2 and payload["reservation_id"] == ocpp_id and payload["id_tag"]
    assert datetime.fromisoformat(payload["expiry_date"]) == datetime.fromisoformat(reservation["ends_at"])

    assert driver_client.post(f"/api/v1/reservations/{reservation['id']}/cancel").status_code == 200
    wait_until(lambda: len(charger.cp.received) == 2, message="CancelReservation received")

    assert charger.cp.received[1] == ("CancelReservation", {"reservation_id": ocpp_id})


def test_a_later_reservation_is_reserved_on_the_charger_by_the_sweep_when_its_window_comes(
    driver_client, ocpp_station, connect_charger, settings
):
    charger = connect_charger(ocpp_station["serial"])
    boot(charger)
    reservation = reserve(driver_client, ocpp_station["connectors"][0]["id"], starts_in=timedelta(hours=3))
    row = OcppReservation.objects.get(reservation_id=reservation["id"])
    assert row.reserve_command_id is None

    assert sweep_commands()["reservations_sent"] == 0
    OcppReservation.objects.filter(id=row.id).update(starts_at=timezone.now() + timedelta(minutes=1))
    assert sweep_commands()["reservations_sent"] == 1
    assert sweep_commands()["reservations_sent"] == 0

    wait_until(lambda: charger.cp.received, message="ReserveNow received")
    assert [action for action, _ in charger.cp.received] == ["ReserveNow"]
