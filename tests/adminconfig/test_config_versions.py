"""config.changed.v1 carries its key's version, bumped by one in the change's transaction (a change rolled back
publishes nothing and bumps nothing); adminconfig's own consumer of it (the flag cache) ends on the newest value
whatever order the copies arrive in."""

import pytest
from django.db import transaction

from apps.adminconfig import selectors, services
from evcharge.actor import ADMIN, Actor
from evcharge.contracts import adminconfig as adminconfig_contract
from evcharge.events.models import InboxMessage
from tests.event_order import replayed_in_reverse


class RolledBack(Exception):
    pass


def test_each_config_change_publishes_the_next_version_and_a_rolled_back_one_nothing(admin_client, admin_user, outbox):
    url = "/api/v1/admin/config/flags.versions_probe"
    for value in (True, False, True):
        assert admin_client.put(url, {"value": value}, format="json").status_code in (200, 201)
    assert [e.data.version for e in outbox("config.changed.v1")] == [1, 2, 3]

    admin = Actor(user_id=admin_user.id, role=ADMIN)
    with pytest.raises(RolledBack), transaction.atomic():
        assert services.config_set(key="flags.versions_probe", value=False, by=admin).version == 4
        raise RolledBack

    assert admin_client.get(url).json()["version"] == 3
    assert len(outbox("config.changed.v1")) == 3


def test_config_changes_in_reverse_order_leave_the_newest_flag(admin_client, outbox, settings):
    """The flag cache keeps no copy of an event's value: each config.changed.v1 drops it and it is read again from
    the key itself, so the newest value wins whatever order the copies arrive in."""
    url = "/api/v1/admin/config/flags.reverse_probe"
    for value in (False, True, False, True):
        assert admin_client.put(url, {"value": value}, format="json").status_code in (200, 201)
    selectors.flag_cache.ttl_seconds = 3600  # only the handler may refresh it now
    try:
        assert adminconfig_contract.is_enabled("reverse_probe") is True

        def wipe():
            InboxMessage.objects.filter(consumer="adminconfig").delete()

        def snapshot():
            return adminconfig_contract.is_enabled("reverse_probe")

        events = outbox("config.changed.v1")
        assert [e.data.new_value for e in events] == [False, True, False, True]
        assert replayed_in_reverse("adminconfig", events, wipe=wipe, snapshot=snapshot) is True
    finally:
        selectors.flag_cache.ttl_seconds = settings.FEATURE_FLAG_CACHE_SECONDS
        selectors.flag_cache.invalidate()
