# ruff: noqa: F811  (pytest fixtures imported from gateway_fixtures)
"""The admin pages of the OCPP side: read-only, and an operator's staff see only their own chargers."""

import uuid

import pytest
from django.test import Client

from apps.chargepoints.models import ChargeBox, RemoteCommand
from tests.chargepoints.gateway_fixtures import ocpp_station  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres

PAGES = ("chargebox", "ocpptransaction", "remotecommand", "ocppreservation")


def browser_for(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_admins_and_the_operators_staff_see_the_charge_box_and_its_commands_read_only(
    make_user, operator_org, other_operator_org, ocpp_station, operator_client
):
    box = ChargeBox.objects.get()
    posted = operator_client.post(
        f"/api/v1/chargers/{box.id}/commands", {"action": "Reset", "payload": {"type": "Soft"}}, format="json"
    ).json()
    admin_user = make_user("admin")
    admin_user.is_superuser = True
    admin_user.save()
    own = browser_for(make_user("operator", operator=operator_org))
    stranger = browser_for(make_user("operator", operator=other_operator_org))

    for browser in (browser_for(admin_user), own):
        for page in PAGES:
            assert browser.get(f"/admin/chargepoints/{page}/").status_code == 200, page
        listed = browser.get("/admin/chargepoints/remotecommand/", {"status": "offline"}).content.decode()
        assert "Reset" in listed
        detail = browser.get(f"/admin/chargepoints/chargebox/{box.id}/change/")
        assert detail.status_code == 200 and box.password_hash not in detail.content.decode()
        assert browser.get("/admin/chargepoints/remotecommand/add/").status_code == 403

    assert box.charge_box_id not in stranger.get("/admin/chargepoints/chargebox/").content.decode()
    assert stranger.get(f"/admin/chargepoints/chargebox/{box.id}/change/").status_code == 404
    assert stranger.get(f"/admin/chargepoints/remotecommand/{posted['id']}/change/").status_code == 404
    assert own.post(f"/admin/chargepoints/remotecommand/{posted['id']}/delete/", {"post": "yes"}).status_code == 403
    assert RemoteCommand.objects.filter(id=uuid.UUID(posted["id"])).exists()
