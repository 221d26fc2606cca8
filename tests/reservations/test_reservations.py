from datetime import UTC, datetime, timedelta

import pytest

from apps.reservations import tasks
from apps.reservations.models import Reservation
from evcharge.contracts.stations import StationStatusChanged
from tests.reservations.conftest import iso, minutes_from_now, publish_in_transaction, window

PROBLEM = "application/problem+json"
NOW = datetime.now(UTC)


def _in(minutes: float) -> str:
    return iso(NOW + timedelta(minutes=minutes))


def test_a_driver_reserves_a_connector(driver, driver_client, station, connector_id, outbox):
    body = {"connector_id": str(connector_id), **window(60, 90)}
    response = driver_client.post("/api/v1/reservations", body, format="json")
    assert response.status_code == 201, response.content
    reservation = response.json()
    assert reservation["status"] == "confirmed"
    assert reservation["connector_id"] == str(connector_id)
    assert reservation["station_id"] == str(station.station_id)
    assert reservation["user_id"] == str(driver.id)
    [event] = outbox("reservation.created.v1")
    assert event.data.reservation_id == Reservation.objects.get().id
    assert (event.data.connector_id, event.data.station_id, event.data.user_id) == (
        connector_id,
        station.station_id,
        driver.id,
    )
    assert iso(event.data.starts_at) == body["starts_at"]
    assert iso(event.data.ends_at) == body["ends_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts_at": _in(120), "ends_at": _in(60)}, "ends_at"),
        ({"starts_at": _in(60), "ends_at": _in(60)}, "ends_at"),
        ({"starts_at": _in(-30), "ends_at": _in(30)}, "starts_at"),
        ({"starts_at": _in(60), "ends_at": _in(60 + 121)}, "ends_at"),
        (
            {"starts_at": _in(60 * 24 * 40), "ends_at": _in(60 * 24 * 40 + 30)},
            "starts_at",
        ),
        ({"starts_at": "tomorrow at nine", "ends_at": _in(60)}, "starts_at"),
        ({"ends_at": _in(60)}, "starts_at"),
    ],
    ids=["inverted", "empty", "past-start", "too-long", "too-far-ahead", "not-a-time", "missing-start"],
)
def test_bad_time_ranges_are_400(driver_client, connector_id, body, field, outbox):
    response = driver_client.post("/api/v1/reservations", {"connector_id": str(connector_id), **body}, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert field in response.json()["errors"]
    assert outbox("reservation.created.v1") == []


def test_unknown_connector_is_404(driver_client, station):
    response = driver_client.post(
        "/api/v1/reservations",
        {"connector_id": "00000000-0000-4000-8000-000000000000", **window(60)},
        format="json",
    )
    assert response.status_code == 404
    assert response["Content-Type"].startswith(PROBLEM)


def test_a_bad_connector_id_is_400(driver_client):
    response = driver_client.post("/api/v1/reservations", {"connector_id": "nope", **window(60)}, format="json")
    assert response.status_code == 400
    assert "connector_id" in response.json()["errors"]


def test_a_faulted_connector_cannot_be_reserved(driver_client, station, connector, reserve):
    publish_in_transaction(
        StationStatusChanged(
            station_id=station.station_id,
            charger_id=station.chargers[0].charger_id,
            connector_id=connector.connector_id,
            connector_type=connector.type,
            old_status="Available",
            new_status="Faulted",
            changed_at=datetime.now(UTC),
        )
    )
    response = reserve(driver_client, connector.connector_id)
    assert response.status_code == 409
    assert response["Content-Type"].startswith(PROBLEM)


def test_unavailable_at_creation_cannot_be_reserved(driver_client, publish_station, reserve):
    station = publish_station(connectors=(("CCS2", "Unavailable"),))
    assert reserve(driver_client, station.chargers[0].connectors[0].connector_id).status_code == 409


def test_a_non_reservable_or_disabled_station_refuses(
    driver_client, station, connector_id, reserve, set_station_settings
):
    set_station_settings(station, reservable=False)
    assert reserve(driver_client, connector_id).json()["code"] == "not_reservable"
    set_station_settings(station, reservable=True, enabled=False)
    assert reserve(driver_client, connector_id).status_code == 409
    set_station_settings(station, reservable=True, enabled=True)
    assert reserve(driver_client, connector_id).status_code == 201


def test_overlap_is_409_but_back_to_back_and_after_cancel_are_fine(driver_client, other_driver_client, connector_id):
    first = window(60, 60)
    assert (
        driver_client.post(
            "/api/v1/reservations", {"connector_id": str(connector_id), **first}, format="json"
        ).status_code
        == 201
    )

    starts_at = datetime.fromisoformat(first["starts_at"].replace("Z", "+00:00"))
    overlapping = {
        "starts_at": iso(starts_at + timedelta(minutes=30)),
        "ends_at": iso(starts_at + timedelta(minutes=90)),
    }
    response = other_driver_client.post(
        "/api/v1/reservations", {"connector_id": str(connector_id), **overlapping}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "reservation_overlap"

    back_to_back = {"starts_at": first["ends_at"], "ends_at": iso(starts_at + timedelta(minutes=120))}
    assert (
        other_driver_client.post(
            "/api/v1/reservations", {"connector_id": str(connector_id), **back_to_back}, format="json"
        ).status_code
        == 201
    )

    first_id = Reservation.objects.get(starts_at=starts_at).id
    assert driver_client.post(f"/api/v1/reservations/{first_id}/cancel").status_code == 200
    retry = other_driver_client.post(
        "/api/v1/reservations", {"connector_id": str(connector_id), **overlapping}, format="json"
    )
    assert retry.status_code == 409  # still overlaps the back-to-back one
    earlier = {"starts_at": first["starts_at"], "ends_at": iso(starts_at + timedelta(minutes=45))}
    assert (
        other_driver_client.post(
            "/api/v1/reservations", {"connector_id": str(connector_id), **earlier}, format="json"
        ).status_code
        == 201
    )


def test_a_station_the_stations_context_says_is_not_reservable_refuses(driver_client, publish_station, reserve):
    station = publish_station(reservable=False)
    response = reserve(driver_client, station.chargers[0].connectors[0].connector_id)
    assert (response.status_code, response.json()["code"]) == (409, "not_reservable")


def test_only_drivers_reserve(operator_client, admin_client, connector_id, reserve):
    assert reserve(operator_client, connector_id).status_code == 403
    assert reserve(admin_client, connector_id).status_code == 403


def test_anonymous_is_401(anon):
    assert anon.get("/api/v1/reservations").status_code == 401


def test_who_sees_a_reservation(
    driver_client, other_driver_client, operator_client, other_operator_client, admin_client, connector_id, reserve
):
    reservation_id = reserve(driver_client, connector_id).json()["id"]
    url = f"/api/v1/reservations/{reservation_id}"
    assert driver_client.get(url).status_code == 200
    assert operator_client.get(url).status_code == 200
    assert admin_client.get(url).status_code == 200
    for stranger in (other_driver_client, other_operator_client):
        response = stranger.get(url)
        assert response.status_code == 404
        assert response["Content-Type"].startswith(PROBLEM)
        assert stranger.get("/api/v1/reservations").json()["count"] == 0
        assert stranger.post(f"{url}/cancel").status_code == 404
    assert [r["id"] for r in driver_client.get("/api/v1/reservations").json()["results"]] == [reservation_id]
    assert operator_client.get("/api/v1/reservations").json()["count"] == 1


def test_list_filters(driver_client, connector_id, reserve):
    soon = reserve(driver_client, connector_id, start_in_minutes=60).json()
    later = reserve(driver_client, connector_id, start_in_minutes=60 * 24).json()
    driver_client.post(f"/api/v1/reservations/{later['id']}/cancel")

    def ids(query):
        response = driver_client.get("/api/v1/reservations", query)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids({"status": "confirmed"}) == {soon["id"]}
    assert ids({"status": "cancelled"}) == {later["id"]}
    assert ids({"from": iso(minutes_from_now(60 * 12))}) == {later["id"]}
    assert ids({"to": iso(minutes_from_now(60 * 12))}) == {soon["id"]}
    assert driver_client.get("/api/v1/reservations", {"from": "yesterday"}).status_code == 400
    assert driver_client.get("/api/v1/reservations", {"status": "lost"}).status_code == 400


def test_cancel_rules(driver, driver_client, operator_user, operator_client, connector_id, reserve, outbox):
    mine = reserve(driver_client, connector_id).json()
    response = driver_client.post(f"/api/v1/reservations/{mine['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_by"] == str(driver.id)
    again = driver_client.post(f"/api/v1/reservations/{mine['id']}/cancel")
    assert again.status_code == 409
    assert again["Content-Type"].startswith(PROBLEM)

    second = reserve(driver_client, connector_id, start_in_minutes=300).json()
    assert operator_client.post(f"/api/v1/reservations/{second['id']}/cancel").status_code == 200
    events = outbox("reservation.cancelled.v1")
    assert [(e.data.reservation_id, e.data.cancelled_by) for e in events] == [
        (Reservation.objects.get(id=mine["id"]).id, driver.id),
        (Reservation.objects.get(id=second["id"]).id, operator_user.id),
    ]
    assert events[0].data.user_id == driver.id
    assert events[0].data.connector_id == connector_id


def test_no_shows_expire(driver, driver_client, connector_id, reserve, outbox):
    no_show = reserve(driver_client, connector_id, start_in_minutes=60).json()
    future = reserve(driver_client, connector_id, start_in_minutes=300).json()
    cancelled = reserve(driver_client, connector_id, start_in_minutes=600).json()
    driver_client.post(f"/api/v1/reservations/{cancelled['id']}/cancel")
    past = datetime.now(UTC) - timedelta(minutes=5)
    # Time passes for the no-show and the cancelled one.
    Reservation.objects.filter(id__in=[no_show["id"], cancelled["id"]]).update(
        starts_at=past - timedelta(hours=1), ends_at=past
    )

    assert tasks.expire_no_show_reservations.delay().get() == 1

    statuses = dict(Reservation.objects.values_list("id", "status"))
    assert {str(k): v for k, v in statuses.items()} == {
        no_show["id"]: "expired",
        future["id"]: "confirmed",
        cancelled["id"]: "cancelled",
    }
    [event] = outbox("reservation.expired.v1")
    assert str(event.data.reservation_id) == no_show["id"]
    assert event.data.user_id == driver.id
    assert tasks.expire_no_show_reservations.delay().get() == 0
    assert driver_client.post(f"/api/v1/reservations/{no_show['id']}/cancel").status_code == 409


def test_expiry_is_a_beat_entry():
    from evcharge.celery import app

    assert any(entry["task"] == tasks.EXPIRE_NO_SHOWS for entry in app.conf.beat_schedule.values())
