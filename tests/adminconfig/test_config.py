import uuid

import pytest
from django.db import transaction

from evcharge.contracts import adminconfig as adminconfig_contract
from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, Location, StationCreated
from evcharge.events import publish

URL = "/api/v1/admin/config"


def put(client, key, body, **headers):
    return client.put(f"{URL}/{key}", body, format="json", **headers)


def test_put_creates_then_changes_with_history(admin_client, admin_user, outbox):
    created = put(admin_client, "billing.invoice_prefix", {"value": "EVC", "description": "Invoice prefix"})
    assert created.status_code == 200, created.content
    assert created.json()["version"] == 1
    assert created["ETag"] == '"1"'

    changed = put(admin_client, "billing.invoice_prefix", {"value": "EV"})
    assert changed.json() == changed.json() | {"value": "EV", "version": 2, "description": "Invoice prefix"}

    history = admin_client.get(f"{URL}/billing.invoice_prefix/history").json()["results"]
    assert [(h["version"], h["old_value"], h["new_value"]) for h in history] == [(2, "EVC", "EV"), (1, None, "EVC")]
    assert all(h["changed_by"] == str(admin_user.id) for h in history)

    events = outbox("config.changed.v1")
    assert [(e.data.key, e.data.old_value, e.data.new_value, e.data.version) for e in events] == [
        ("billing.invoice_prefix", None, "EVC", 1),
        ("billing.invoice_prefix", "EVC", "EV", 2),
    ]
    assert events[1].data.changed_by == admin_user.id


def test_unchanged_value_adds_no_history(admin_client, outbox):
    put(admin_client, "billing.invoice_prefix", {"value": {"a": [1, 2]}})
    again = put(admin_client, "billing.invoice_prefix", {"value": {"a": [1, 2]}})
    assert again.json()["version"] == 1
    assert len(outbox("config.changed.v1")) == 1


def test_list_and_get(admin_client):
    put(admin_client, "flags.dark_mode", {"value": False})
    put(admin_client, "reports.week_starts_on", {"value": "monday"})
    listed = admin_client.get(URL).json()
    assert [e["key"] for e in listed["results"]] == ["flags.dark_mode", "reports.week_starts_on"]
    assert admin_client.get(f"{URL}/flags.dark_mode").json()["value"] is False
    missing = admin_client.get(f"{URL}/flags.nope")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("flags.dark_mode", "yes", "value"),
        ("flags.dark_mode", 1, "value"),
        ("stations.defaults.idle_grace_min", -5, "value"),
        ("stations.defaults.max_power_kw", "fast", "value"),
        ("stations.defaults.rate_plan_id", "not-a-uuid", "value"),
        ("NoDots", True, "key"),
        ("flags..x", True, "key"),
        ("flags.Upper", True, "key"),
    ],
)
def test_schema_and_key_refusals(admin_client, key, value, field):
    response = put(admin_client, key, {"value": value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == 400
    assert field in body["errors"]
    assert admin_client.get(f"{URL}/{key}").status_code == 404


def test_schema_message_names_the_problem(admin_client):
    body = put(admin_client, "flags.dark_mode", {"value": "yes"}).json()
    assert "is not of type 'boolean'" in body["errors"]["value"][0]


def test_missing_value_is_400(admin_client):
    response = put(admin_client, "billing.invoice_prefix", {"description": "no value"})
    assert response.status_code == 400
    assert "value" in response.json()["errors"]


def test_stale_if_match_is_412(admin_client, outbox):
    first = put(admin_client, "billing.invoice_prefix", {"value": "A"})
    etag = first["ETag"]
    assert put(admin_client, "billing.invoice_prefix", {"value": "B"}, HTTP_IF_MATCH=etag).status_code == 200
    stale = put(admin_client, "billing.invoice_prefix", {"value": "C"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_write"
    assert admin_client.get(f"{URL}/billing.invoice_prefix").json()["value"] == "B"
    assert len(outbox("config.changed.v1")) == 2


def test_if_match_on_a_missing_key_is_412_and_garbage_is_400(admin_client):
    assert put(admin_client, "billing.x", {"value": 1}, HTTP_IF_MATCH='"1"').status_code == 412
    assert put(admin_client, "billing.x", {"value": 1}, HTTP_IF_MATCH="soon").status_code == 400


def test_only_admins(operator_client, driver_client, anon):
    for client, status in [(operator_client, 403), (driver_client, 403), (anon, 401)]:
        assert client.get(URL).status_code == status
        assert put(client, "flags.x", {"value": True}).status_code == status


def test_flag_cache_follows_a_change(admin_client, settings):
    from apps.adminconfig import selectors

    selectors.flag_cache.ttl_seconds = 3600  # only the config.changed.v1 handler may refresh it now
    try:
        assert adminconfig_contract.is_enabled("new_checkout", default=False) is False
        put(admin_client, "flags.new_checkout", {"value": True})
        assert adminconfig_contract.is_enabled("new_checkout") is True
        put(admin_client, "flags.new_checkout", {"value": False})
        assert adminconfig_contract.is_enabled("new_checkout", default=True) is False
    finally:
        selectors.flag_cache.ttl_seconds = settings.FEATURE_FLAG_CACHE_SECONDS
        selectors.flag_cache.invalidate()


def test_flag_cache_refreshes_after_ttl_without_the_event(admin_client):
    from apps.adminconfig import selectors
    from apps.adminconfig.models import ConfigEntry

    selectors.flag_cache.invalidate()
    assert adminconfig_contract.is_enabled("beta") is False
    ConfigEntry.objects.create(key="flags.beta", value=True)  # as another process would, no event here
    assert adminconfig_contract.is_enabled("beta") is False  # still cached
    selectors.flag_cache._loaded_at -= selectors.flag_cache.ttl_seconds + 1
    assert adminconfig_contract.is_enabled("beta") is True


# --- station settings ---


def publish_station(operator_id, name="Hafen"):
    station_id = uuid.uuid4()
    with transaction.atomic():
        publish(
            StationCreated(
                station_id=station_id,
                operator_id=operator_id,
                name=name,
                timezone="Europe/Berlin",
                location=Location(latitude=53.5, longitude=10.0, address="Hafenstr. 1"),
                chargers=[
                    ChargerInfo(
                        charger_id=uuid.uuid4(),
                        serial="CH-1",
                        max_power_kw=150,
                        connectors=[
                            ConnectorInfo(
                                connector_id=uuid.uuid4(),
                                number=1,
                                type="CCS2",
                                max_power_kw=150,
                                status="Available",
                                code="ABCD2345",
                            )
                        ],
                    )
                ],
            )
        )
    return station_id


def settings_url(station_id):
    return f"/api/v1/admin/stations/{station_id}/settings"


def test_settings_seeded_from_config_defaults(admin_client, operator_client, operator_org):
    put(admin_client, "stations.defaults.reservable", {"value": False})
    put(admin_client, "stations.defaults.idle_grace_min", {"value": 15})
    station_id = publish_station(operator_org.id)
    seeded = operator_client.get(settings_url(station_id))
    assert seeded.status_code == 200
    assert seeded.json() | {"updated_at": None} == {
        "station_id": str(station_id),
        "operator_id": str(operator_org.id),
        "enabled": True,
        "reservable": False,
        "max_power_kw": None,
        "rate_plan_id": None,
        "idle_grace_min": 15,
        "version": 1,
        "updated_at": None,
    }


def test_put_settings_publishes_station_config_updated(operator_client, operator_org, outbox):
    station_id = publish_station(operator_org.id)
    plan_id = uuid.uuid4()
    response = operator_client.put(
        settings_url(station_id),
        {"reservable": False, "rate_plan_id": str(plan_id), "max_power_kw": 50},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    (event,) = outbox("station.config.updated.v1")
    assert event.data.station_id == station_id
    assert event.data.operator_id == operator_org.id
    assert sorted(event.data.changed) == ["max_power_kw", "rate_plan_id", "reservable"]
    assert event.data.settings.reservable is False
    assert event.data.settings.rate_plan_id == plan_id
    assert event.data.settings.max_power_kw == 50


def test_put_same_settings_publishes_nothing(operator_client, operator_org, outbox):
    station_id = publish_station(operator_org.id)
    assert operator_client.put(settings_url(station_id), {"enabled": True}, format="json").status_code == 200
    assert outbox("station.config.updated.v1") == []


@pytest.mark.parametrize(
    "body",
    [{"max_power_kw": -1}, {"idle_grace_min": "ten"}, {"rate_plan_id": "nope"}, {"colour": "red"}, {}],
)
def test_bad_settings_are_400(operator_client, operator_org, body):
    station_id = publish_station(operator_org.id)
    response = operator_client.put(settings_url(station_id), body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_settings_scoping(other_operator_client, admin_client, driver_client, operator_org):
    station_id = publish_station(operator_org.id)
    assert other_operator_client.put(settings_url(station_id), {"enabled": False}, format="json").status_code == 404
    assert other_operator_client.get(settings_url(station_id)).status_code == 404
    assert driver_client.put(settings_url(station_id), {"enabled": False}, format="json").status_code == 403
    assert admin_client.put(settings_url(station_id), {"enabled": False}, format="json").status_code == 200
    assert admin_client.get(settings_url(uuid.uuid4())).status_code == 404
