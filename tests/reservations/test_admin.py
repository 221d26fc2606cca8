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
