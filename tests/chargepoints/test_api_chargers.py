# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""The chargers API of the OCPP side: the charger with its OCPP link, its OCPP password, remote commands.
Only the operator of the charger's station (and admins) see or command it."""

import uuid

import pytest

from apps.chargepoints.models import ChargeBox, RemoteCommand
from apps.chargepoints.services.credentials import password_matches
from tests.chargepoints.gateway_fixtures import PASSWORD, ocpp_station  # noqa: F401  (fixture)
from tests.helpers import assert_problem

pytestmark = pytest.mark.postgres


def url(ocpp_station, tail=""):
    return f"/api/v1/chargers/{ocpp_station['charger']['id']}{tail}"


def test_the_operator_sees_the_charger_and_its_ocpp_link_before_it_ever_connected(operator_client, ocpp_station):
    response = operator_client.get(url(ocpp_station))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == ocpp_station["charger"]["id"] and body["serial"] == ocpp_station["serial"]
    assert body["station_id"] == ocpp_station["station"]["id"] and body["max_power_kw"] == 22
    assert [c["number"] for c in body["connectors"]] == [1, 2]
    assert body["ocpp"] == {
        "connected": False,
        "last_seen_at": None,
        "vendor": None,
        "model": None,
        "firmware_version": None,
        "protocol": None,
        "password_set": True,
    }
    assert PASSWORD not in response.content.decode()


def test_another_operator_gets_404_a_driver_403_and_an_admin_the_charger(
    other_operator_client, driver_client, admin_client, ocpp_station
):
    for tail, method, body in [
        ("", "get", None),
        ("/commands", "get", None),
        ("/commands", "post", {"action": "Reset", "payload": {"type": "Soft"}}),
        ("/ocpp-credentials", "put", {"password": "another-secret-0123456789"}),
    ]:
        assert_problem(getattr(other_operator_client, method)(url(ocpp_station, tail), body, format="json"), 404)
        assert_problem(getattr(driver_client, method)(url(ocpp_station, tail), body, format="json"), 403)
    assert RemoteCommand.objects.count() == 0
    assert password_matches(ChargeBox.objects.get(), PASSWORD)
    assert admin_client.get(url(ocpp_station)).status_code == 200
    assert_problem(admin_client.get(f"/api/v1/chargers/{uuid.uuid4()}"), 404)


def test_the_ocpp_password_is_set_never_shown_and_checked_for_length_and_characters(operator_client, ocpp_station):
    for bad in ["short-one", "x" * 41, "sixteen chars ok!", "pässwort-0123456789"]:
        assert_problem(operator_client.put(url(ocpp_station, "/ocpp-credentials"), {"password": bad}), 400)
    assert password_matches(ChargeBox.objects.get(), PASSWORD)

    response = operator_client.put(url(ocpp_station, "/ocpp-credentials"), {"password": "n3w-Secret_0123456789"})

    assert response.status_code == 204 and not response.content
    box = ChargeBox.objects.get()
    assert password_matches(box, "n3w-Secret_0123456789") and not password_matches(box, PASSWORD)
    assert "n3w-Secret" not in box.password_hash


def test_a_command_to_a_charger_that_is_not_connected_is_offline_at_once(operator_client, operator_user, ocpp_station):
    response = operator_client.post(
        url(ocpp_station, "/commands"), {"action": "Reset", "payload": {"type": "Hard"}}, format="json"
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["action"], body["payload"], body["status"]) == ("Reset", {"type": "Hard"}, "offline")
    assert body["requested_by"] == str(operator_user.id) and body["answered_at"] and body["sent_at"] is None
    listed = operator_client.get(url(ocpp_station, "/commands")).json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    one = operator_client.get(url(ocpp_station, f"/commands/{body['id']}")).json()
    assert one["status"] == "offline" and one["response"]["error"]
    assert_problem(operator_client.get(url(ocpp_station, f"/commands/{uuid.uuid4()}")), 404)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        ({"action": "Explode", "payload": {}}, "action"),
        ({"action": "Reset", "payload": {"type": "Gentle"}}, "payload"),
        ({"action": "Reset", "payload": {}}, "payload"),
        ({"action": "ChangeAvailability", "payload": {"connectorId": "one", "type": "Inoperative"}}, "payload"),
        ({"action": "RemoteStartTransaction", "payload": {"idTag": "X" * 21}}, "payload"),
        ({"action": "Reset", "payload": ["Soft"]}, "payload"),
    ],
)
def test_a_bad_action_or_a_payload_outside_the_ocpp_schema_is_400_and_nothing_is_recorded(
    operator_client, ocpp_station, command, field
):
    response = operator_client.post(url(ocpp_station, "/commands"), command, format="json")

    body = assert_problem(response, 400, fields=(field,))
    assert body["detail"]
    assert RemoteCommand.objects.count() == 0


def test_commands_are_listed_newest_first_and_paged(operator_client, ocpp_station):
    ids = [
        operator_client.post(
            url(ocpp_station, "/commands"), {"action": "TriggerMessage", "payload": m}, format="json"
        ).json()["id"]
        for m in [{"requestedMessage": m} for m in ("Heartbeat", "StatusNotification", "BootNotification")]
    ]

    page = operator_client.get(url(ocpp_station, "/commands?limit=2")).json()

    assert page["count"] == 3 and [c["id"] for c in page["results"]] == ids[::-1][:2]
