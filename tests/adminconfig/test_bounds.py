"""Config values and station settings are bounded: deep nesting and absurd numbers answer 400, never a
RecursionError or 500 — through the API (whatever the platform's parser allows) and through the services."""

import math
import uuid

import pytest

from apps.adminconfig import schemas, services
from apps.adminconfig.models import ConfigEntry
from evcharge.actor import Actor
from evcharge.errors import InvalidInput
from tests.adminconfig.test_station_settings_reactions import create_station

URL = "/api/v1/admin/config"
DEEP = 100_000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def put_raw(client, path: str, body: str):
    return client.generic("PUT", path, body.encode(), content_type="application/json")


@pytest.fixture(params=["platform parser", "no platform limit"])
def parser_limit(request, settings):
    """Both with the platform's JSON depth limit and with it out of the way: adminconfig's own limit holds."""
    if request.param == "no platform limit":
        settings.API_MAX_JSON_DEPTH = 10**9
    return request.param


def assert_problem_400(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_a_100000_deep_config_value_is_400(admin_client, parser_limit, outbox):
    response = put_raw(admin_client, f"{URL}/billing.deep", '{"value": ' + nested(DEEP) + "}")

    assert_problem_400(response)
    assert not ConfigEntry.objects.filter(key="billing.deep").exists()
    assert outbox("config.changed.v1") == []


@pytest.mark.parametrize("depth", [schemas.MAX_VALUE_DEPTH + 1, 48, 500])
def test_a_value_deeper_than_the_limit_is_400_naming_the_value(admin_client, settings, depth):
    settings.API_MAX_JSON_DEPTH = 10**9  # the platform lets it through: adminconfig refuses it
    response = put_raw(admin_client, f"{URL}/billing.deep", '{"value": ' + nested(depth) + "}")

    body = assert_problem_400(response)
    assert "value" in body["errors"]
    assert str(schemas.MAX_VALUE_DEPTH) in body["errors"]["value"][0]


def test_no_depth_around_the_interpreters_recursion_limit_is_a_500(admin_client, settings):
    settings.API_MAX_JSON_DEPTH = 10**9
    for depth in range(600, 1400, 25):
        response = put_raw(admin_client, f"{URL}/billing.deep", '{"value": ' + nested(depth) + "}")
        assert response.status_code == 400, (depth, response.content[:300])
    assert not ConfigEntry.objects.filter(key="billing.deep").exists()


def test_a_value_at_the_limit_is_kept(admin_client):
    value = {"a": [[{"b": 1}]]}
    for _ in range(schemas.MAX_VALUE_DEPTH - 4):
        value = [value]
    response = admin_client.put(f"{URL}/billing.deep", {"value": value}, format="json")

    assert response.status_code == 200, response.content[:300]
    assert admin_client.get(f"{URL}/billing.deep").json()["value"] == value


def test_the_service_refuses_deep_values_itself(admin_user):
    value: list = []
    for _ in range(5000):  # deeper than Python's recursion limit
        value = [value]

    with pytest.raises(InvalidInput) as refused:
        services.config_set(key="billing.deep", value=value, by=Actor(user_id=admin_user.id, role="admin"))

    assert "value" in refused.value.errors
    assert not ConfigEntry.objects.filter(key="billing.deep").exists()


def test_a_100000_deep_station_settings_body_is_400(operator_client, parser_limit):
    station = create_station(operator_client)

    response = put_raw(
        operator_client, f"/api/v1/admin/stations/{station['id']}/settings", '{"max_power_kw": ' + nested(DEEP) + "}"
    )

    assert_problem_400(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_power_kw", 2**70),
        ("max_power_kw", 1e308),
        ("max_power_kw", 0),
        ("max_power_kw", -1),
        ("max_power_kw", "NaN"),
        ("idle_grace_min", 2**70),
        ("idle_grace_min", 2**31),
        ("idle_grace_min", -1),
        ("enabled", [[[]]]),
        ("rate_plan_id", "x" * 10_000),
    ],
)
def test_absurd_station_settings_are_400(operator_client, field, value):
    station = create_station(operator_client)

    response = operator_client.put(f"/api/v1/admin/stations/{station['id']}/settings", {field: value}, format="json")

    assert field in assert_problem_400(response)["errors"]
    assert operator_client.get(f"/api/v1/admin/stations/{station['id']}/settings").json()["version"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_power_kw", 2**70),
        ("max_power_kw", math.nan),
        ("max_power_kw", math.inf),
        ("max_power_kw", 0),
        ("idle_grace_min", 2**70),
        ("idle_grace_min", 2.5),
        ("enabled", "yes"),
        ("rate_plan_id", "not-a-uuid"),
        ("colour", "red"),
    ],
)
def test_the_settings_service_checks_bounds_itself(operator_client, operator_user, field, value):
    station = create_station(operator_client)

    with pytest.raises(InvalidInput) as refused:
        services.station_settings_update(
            station_id=uuid.UUID(station["id"]),
            by=Actor(user_id=operator_user.id, role="operator", operator_id=operator_user.operator_id),
            changes={field: value},
        )

    assert field in refused.value.errors


def test_the_settings_service_takes_values_in_bounds(operator_client, operator_user):
    station = create_station(operator_client)

    settings = services.station_settings_update(
        station_id=uuid.UUID(station["id"]),
        by=Actor(user_id=operator_user.id, role="operator", operator_id=operator_user.operator_id),
        changes={"max_power_kw": 350, "idle_grace_min": 15, "rate_plan_id": None, "enabled": False},
    )

    assert (settings.max_power_kw, settings.idle_grace_min, settings.enabled, settings.version) == (350, 15, False, 2)
