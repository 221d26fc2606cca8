"""The RFID tags admin page: platform admins block a lost card or set an expiry (chargers are told at once);
operator staff never see drivers' tags."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from apps.identity.models import IdTag
from evcharge.contracts import identity


@pytest.fixture
def admin_browser(make_user):
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    return browser


def test_an_admin_blocks_a_lost_card_and_sets_an_expiry(admin_browser, driver):
    lost = IdTag.objects.create(user=driver, tag="LOST1")
    spare = IdTag.objects.create(user=driver, tag="SPARE1")
    assert "LOST1" in admin_browser.get("/admin/identity/idtag/").content.decode()

    admin_browser.post("/admin/identity/idtag/", {"action": "block", "_selected_action": [str(lost.id)]})
    assert identity.facade().authorize_id_tag("LOST1").status == "Blocked"

    yesterday = datetime.now(UTC) - timedelta(days=1)
    changed = admin_browser.post(
        f"/admin/identity/idtag/{spare.id}/change/",
        {"status": "accepted", "expires_at_0": yesterday.strftime("%Y-%m-%d"), "expires_at_1": "00:00:00"},
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    assert identity.facade().authorize_id_tag("SPARE1").status == "Expired"
    assert admin_browser.get("/admin/identity/idtag/add/").status_code == 403, "drivers add tags via the API"


def test_operator_staff_never_see_drivers_tags(operator_user, driver):
    tag = IdTag.objects.create(user=driver, tag="PRIVATE1")
    staff = Client()
    staff.force_login(operator_user)

    assert staff.get("/admin/identity/idtag/").status_code == 403
    assert staff.get(f"/admin/identity/idtag/{tag.id}/change/").status_code == 404
