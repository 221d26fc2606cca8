"""Drivers' RFID tags: registered through the API, one owner each, answered to chargers through the identity
facade (Accepted, Blocked, Expired, Invalid), and a platform-issued tag for remote starts."""

from datetime import UTC, datetime, timedelta

from apps.identity.models import IdTag
from evcharge.contracts import identity


def test_a_driver_registers_lists_and_removes_their_tags(driver, driver_client, other_driver_client):
    created = driver_client.post("/api/v1/auth/id-tags", {"tag": "04A2B3C4D5"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["tag"] == "04A2B3C4D5" and created.json()["status"] == "accepted"
    tag_id = created.json()["id"]

    assert [t["tag"] for t in driver_client.get("/api/v1/auth/id-tags").json()["results"]] == ["04A2B3C4D5"]
    assert other_driver_client.get("/api/v1/auth/id-tags").json()["results"] == []
    assert other_driver_client.delete(f"/api/v1/auth/id-tags/{tag_id}").status_code == 404

    taken = other_driver_client.post("/api/v1/auth/id-tags", {"tag": "04a2b3c4d5"}, format="json")
    assert taken.status_code == 409 and taken.json()["code"] == "id_tag_taken"
    assert str(driver.id) not in taken.content.decode()

    assert driver_client.delete(f"/api/v1/auth/id-tags/{tag_id}").status_code == 204
    assert identity.facade().authorize_id_tag("04A2B3C4D5").status == "Invalid"


def test_bad_tags_are_refused_with_a_reason(driver_client, client_for, api_key_for, operator_org):
    too_long = driver_client.post("/api/v1/auth/id-tags", {"tag": "X" * 21}, format="json")
    assert too_long.status_code == 400 and "tag" in too_long.json()["errors"]
    not_ascii = driver_client.post("/api/v1/auth/id-tags", {"tag": "Käse"}, format="json")
    assert not_ascii.status_code == 400
    machine = client_for(api_key=api_key_for(operator_org)).get("/api/v1/auth/id-tags")
    assert machine.status_code == 401, "tags belong to people: the route takes no API key"


def test_only_an_admin_registers_a_tag_for_someone_else(driver, admin_client, other_driver_client):
    mine = other_driver_client.post("/api/v1/auth/id-tags", {"tag": "A1", "user_id": str(driver.id)}, format="json")
    assert mine.status_code == 403

    theirs = admin_client.post("/api/v1/auth/id-tags", {"tag": "A1", "user_id": str(driver.id)}, format="json")
    assert theirs.status_code == 201 and theirs.json()["user_id"] == str(driver.id)
    listed = admin_client.get("/api/v1/auth/id-tags", {"user_id": str(driver.id)}).json()["results"]
    assert [t["tag"] for t in listed] == ["A1"]
    assert admin_client.get("/api/v1/auth/id-tags", {"user_id": "nope"}).status_code == 400


def test_chargers_are_told_accepted_blocked_expired_or_invalid(driver, make_user):
    facade = identity.facade()
    IdTag.objects.create(user=driver, tag="GOOD")
    IdTag.objects.create(user=driver, tag="LOST", status=IdTag.Status.BLOCKED)
    IdTag.objects.create(user=driver, tag="OLD", expires_at=datetime.now(UTC) - timedelta(days=1))
    gone = make_user("driver")
    IdTag.objects.create(user=gone, tag="GONE")
    gone.is_active = False
    gone.save()

    good = facade.authorize_id_tag("good")
    assert (good.status, good.user_id) == ("Accepted", driver.id)
    assert facade.authorize_id_tag("LOST").status == "Blocked"
    assert facade.authorize_id_tag("OLD").status == "Expired"
    assert facade.authorize_id_tag("GONE").status == "Invalid"
    assert facade.authorize_id_tag("NOBODY").status == "Invalid"


def test_a_driver_without_a_card_gets_one_platform_tag_for_remote_starts(driver, other_driver):
    facade = identity.facade()

    issued = facade.id_tag_for_user(driver.id)

    assert issued.startswith("EVC") and len(issued) <= 20
    assert facade.id_tag_for_user(driver.id) == issued, "issued once, then reused"
    assert facade.id_tag_for_user(other_driver.id) != issued
    assert facade.authorize_id_tag(issued).user_id == driver.id
    IdTag.objects.create(user=other_driver, tag="CARD1")
    assert facade.id_tag_for_user(other_driver.id) == "CARD1", "a driver's own card comes first"
