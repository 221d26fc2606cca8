import pytest
from django.test import Client

from apps.reservations.models import Reservation


@pytest.fixture
def staff_browser(make_user):
    user = make_user("admin")
    user.is_superuser = True
    user.save()
    browser = Client()
    browser.force_login(user)
    return browser


def test_admin_pages_list_filter_and_search(staff_browser, station, connector, driver_client, reserve, start_session):
    reserve(driver_client, connector.connector_id)
    start_session(driver_client, connector.connector_id)
    for page in ("reservation", "chargingsession", "connector", "stationsettings"):
        url = f"/admin/reservations/{page}/"
        assert staff_browser.get(url).status_code == 200, page
        assert staff_browser.get(url, {"station_id": str(station.station_id)}).status_code == 200
        assert staff_browser.get(url, {"operator_id": str(station.operator_id)}).status_code == 200
    found = staff_browser.get("/admin/reservations/connector/", {"q": connector.code})
    assert connector.code in found.content.decode()
    assert staff_browser.get(f"/admin/reservations/connector/{connector.connector_id}/change/").status_code == 200
    assert staff_browser.get("/admin/reservations/connector/add/").status_code == 403


def test_admin_cancels_through_the_service(staff_browser, driver_client, connector_id, reserve, outbox):
    reservation_id = reserve(driver_client, connector_id).json()["id"]
    response = staff_browser.post(
        "/admin/reservations/reservation/",
        {"action": "cancel_reservations", "_selected_action": [reservation_id]},
    )
    assert response.status_code == 302
    assert Reservation.objects.get(id=reservation_id).status == "cancelled"
    assert len(outbox("reservation.cancelled.v1")) == 1


def _awaiting_session(driver_client, connector_id, start_session) -> str:
    from datetime import UTC, datetime, timedelta

    from apps.reservations.models import ChargingSession

    session_id = start_session(driver_client, connector_id).json()["id"]
    ChargingSession.objects.filter(id=session_id).update(started_at=datetime.now(UTC) - timedelta(hours=1))
    assert driver_client.post(f"/api/v1/sessions/{session_id}/stop", {}, format="json").json()["meter_pending"]
    return session_id


def test_admin_settles_through_the_service(staff_browser, driver_client, connector_id, start_session, outbox):
    from apps.reservations.models import ChargingSession

    session_id = _awaiting_session(driver_client, connector_id, start_session)
    url = "/admin/reservations/chargingsession/"
    assert session_id in staff_browser.get(url, {"energy_status__exact": "awaiting_meter"}).content.decode()
    form = staff_browser.post(url, {"action": "settle_sessions", "_selected_action": [session_id]})
    assert form.status_code == 200 and b"energy_wh" in form.content  # the intermediate form
    refused = staff_browser.post(
        url, {"action": "settle_sessions", "_selected_action": [session_id], "apply": "1", "energy_wh": "5000"}
    )
    assert refused.status_code == 200  # no reason: the form again
    assert ChargingSession.objects.get(id=session_id).energy_status == "awaiting_meter"
    done = staff_browser.post(
        url,
        {
            "action": "settle_sessions",
            "_selected_action": [session_id],
            "apply": "1",
            "energy_wh": "5000",
            "reason": "charger replaced",
        },
    )
    assert done.status_code == 302
    session = ChargingSession.objects.get(id=session_id)
    assert (session.energy_status, session.energy_wh, session.settlement_reason) == (
        "settled",
        5000,
        "charger replaced",
    )
    [completed] = outbox("session.completed.v1")
    assert (completed.data.energy_wh, completed.data.energy_source) == (5000, "settled")


def test_operator_staff_see_and_settle_only_their_operators_sessions(
    make_user, operator_org, other_operator_org, driver_client, connector_id, start_session, outbox
):
    from apps.reservations.models import ChargingSession

    session_id = _awaiting_session(driver_client, connector_id, start_session)
    url = "/admin/reservations/chargingsession/"
    settle = {
        "action": "settle_sessions",
        "_selected_action": [session_id],
        "apply": "1",
        "energy_wh": "5000",
        "reason": "charger replaced",
    }

    stranger = Client()
    stranger.force_login(make_user("operator", operator=other_operator_org))
    assert session_id not in stranger.get(url).content.decode()
    assert stranger.get(f"{url}{session_id}/change/").status_code == 404
    stranger.post(url, settle)
    assert ChargingSession.objects.get(id=session_id).energy_status == "awaiting_meter"

    own = Client()
    own_staff = make_user("operator", operator=operator_org)
    own.force_login(own_staff)
    assert session_id in own.get(url).content.decode()
    assert own.post(url, settle).status_code == 302
    session = ChargingSession.objects.get(id=session_id)
    assert (session.energy_status, session.settled_by) == ("settled", own_staff.id)
    assert len(outbox("session.completed.v1")) == 1
