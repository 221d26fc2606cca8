"""Config entries are edited in the Django admin through the same service as the API: the schema check,
the history and config.changed.v1 apply, and "updated by" reads as the staff member's e-mail."""

import json

import pytest
from django.test import Client

from apps.adminconfig import services
from apps.adminconfig.models import ConfigEntry
from evcharge.actor import Actor

INLINE = {"history-TOTAL_FORMS": "0", "history-INITIAL_FORMS": "0"}


@pytest.fixture
def admin_browser(make_user):
    admin = make_user("admin", email="ada@evcharge.test")
    admin.is_superuser = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    return browser


def test_an_admin_changes_a_value_in_the_admin_with_history_and_event(admin_browser, outbox):
    services.config_set(key="flags.new_checkout", value=False, by=Actor.system())
    url = "/admin/adminconfig/configentry/flags.new_checkout/change/"
    page = admin_browser.get(url)
    assert page.status_code == 200 and 'name="value"' in page.content.decode()  # an editable field

    response = admin_browser.post(url, {"value": "true", "description": "On for everyone.", **INLINE})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = ConfigEntry.objects.get(key="flags.new_checkout")
    assert (entry.value, entry.version, entry.description) == (True, 2, "On for everyone.")
    assert [(c.version, c.new_value, c.changed_by_email) for c in entry.history.all()] == [
        (2, True, "ada@evcharge.test"),
        (1, False, ""),
    ]
    assert [(e.data.key, e.data.new_value) for e in outbox("config.changed.v1")][-1] == ("flags.new_checkout", True)
    listing = admin_browser.get("/admin/adminconfig/configentry/").content.decode()
    assert "ada@evcharge.test" in listing
    assert str(entry.updated_by) not in listing  # the person, not a user id


def test_a_value_that_breaks_the_schema_is_refused_in_the_admin(admin_browser, outbox):
    services.config_set(key="stations.defaults.idle_grace_min", value=10, by=Actor.system())
    url = "/admin/adminconfig/configentry/stations.defaults.idle_grace_min/change/"
    response = admin_browser.post(url, {"value": json.dumps("ten"), "description": "", **INLINE})
    assert response.status_code == 200  # the form again, with the schema's complaint
    assert "is not of type" in response.content.decode()
    assert ConfigEntry.objects.get(key="stations.defaults.idle_grace_min").value == 10
    assert len(outbox("config.changed.v1")) == 1


def test_an_admin_adds_a_key_through_the_service(admin_browser, outbox):
    response = admin_browser.post(
        "/admin/adminconfig/configentry/add/",
        {"key": "stations.defaults.max_power_kw", "value": "150", "description": "Cap for new stations.", **INLINE},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = ConfigEntry.objects.get(key="stations.defaults.max_power_kw")
    assert (entry.value, entry.updated_by_email) == (150, "ada@evcharge.test")
    assert [e.data.key for e in outbox("config.changed.v1")] == ["stations.defaults.max_power_kw"]

    bad_key = admin_browser.post("/admin/adminconfig/configentry/add/", {"key": "Not A Key", "value": "1", **INLINE})
    assert bad_key.status_code == 200 and not ConfigEntry.objects.filter(key="Not A Key").exists()


def test_the_api_shows_who_changed_a_key_by_e_mail(client_for, make_user):
    admin = make_user("admin", email="grace@evcharge.test")
    client = client_for(admin)
    assert client.put("/api/v1/admin/config/flags.dark_mode", {"value": True}, format="json").status_code == 200
    body = client.get("/api/v1/admin/config/flags.dark_mode").json()
    assert body["updated_by_email"] == "grace@evcharge.test"
    history = client.get("/api/v1/admin/config/flags.dark_mode/history").json()
    rows = history["results"] if isinstance(history, dict) else history
    assert rows[0]["changed_by_email"] == "grace@evcharge.test"
