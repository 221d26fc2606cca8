"""Operator staff in the identity admin: their operator, its staff and its API keys; never drivers,
another operator's people or keys, password hashes or admin rights."""

import pytest
from django.test import Client

from apps.identity.models import ApiKey


@pytest.fixture
def staff(operator_user) -> Client:
    browser = Client()
    browser.force_login(operator_user)
    return browser


def test_operator_staff_see_their_staff_only(staff, operator_user, other_operator_user, driver, make_user):
    colleague = make_user("operator", operator=operator_user.operator)
    users = staff.get("/admin/identity/user/").content.decode()
    assert operator_user.email in users and colleague.email in users
    assert driver.email not in users and other_operator_user.email not in users
    assert "0 results" in staff.get("/admin/identity/user/", {"q": driver.email}).content.decode()

    page = staff.get(f"/admin/identity/user/{colleague.id}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "md5$" not in body and colleague.password not in body
    assert 'name="is_superuser"' not in body and "Admin access" not in body
    assert staff.get(f"/admin/identity/user/{driver.id}/change/").status_code == 404
    assert staff.get(f"/admin/identity/user/{other_operator_user.id}/change/").status_code == 404
    assert staff.get("/admin/identity/user/add/").status_code == 403
    made_admin = staff.post(
        f"/admin/identity/user/{colleague.id}/change/",
        {"email": colleague.email, "role": "admin", "is_superuser": "on", "is_staff": "on", "is_active": "on"},
    )
    assert made_admin.status_code == 403
    colleague.refresh_from_db()
    assert (colleague.role, colleague.is_superuser) == ("operator", False)


def test_operator_staff_see_and_revoke_their_keys_only(
    staff, operator_org, other_operator_org, other_operator_user, api_key_for
):
    api_key_for(operator_org)
    api_key_for(other_operator_org)
    mine = ApiKey.objects.get(operator=operator_org)
    theirs = ApiKey.objects.get(operator=other_operator_org)

    listing = staff.get("/admin/identity/apikey/").content.decode()
    assert mine.prefix in listing and theirs.prefix not in listing and other_operator_org.name not in listing
    assert staff.get(f"/admin/identity/apikey/{theirs.id}/change/").status_code == 404
    assert mine.hashed_key not in staff.get(f"/admin/identity/apikey/{mine.id}/change/").content.decode()

    staff.post("/admin/identity/apikey/", {"action": "revoke", "_selected_action": [str(mine.id), str(theirs.id)]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None

    operators = staff.get("/admin/identity/operator/").content.decode()
    assert operator_org.name in operators and other_operator_org.name not in operators
    assert staff.get(f"/admin/identity/operator/{other_operator_org.id}/change/").status_code == 404
