"""Issue 18, point 8 and the schema part: each operation says which credentials it takes and what limits it."""

import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_READS = [
    ("/api/v1/stations", "get"),
    ("/api/v1/stations/{station_id}", "get"),
    ("/api/v1/connectors/{connector_id}/qr", "get"),
    ("/api/v1/pricing/quote", "get"),
]


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_states_its_credentials(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"} and "security" not in operation
    ]
    assert not missing


@pytest.mark.parametrize(("path", "method"), PUBLIC_READS)
def test_public_reads_take_a_bearer_token_or_nothing(schema, path, method):
    assert {} in schema["paths"][path][method]["security"]
    assert {"jwtAuth": []} in schema["paths"][path][method]["security"]


def test_writes_to_stations_need_a_bearer_token(schema):
    assert schema["paths"]["/api/v1/stations"]["post"]["security"] == [{"jwtAuth": []}]


def test_a_route_without_any_credentials_says_so(schema):
    assert schema["paths"]["/api/v1/connectors/by-code/{code}"]["get"]["security"] == []


def test_routes_name_the_credentials_they_take_api_key_only_where_accepted(schema):
    latest = schema["paths"]["/api/v1/telemetry/stations/{station_id}/latest"]["get"]
    assert latest["security"] == [{"jwtAuth": []}]
    assert "bearer access token" in latest["responses"]["401"]["description"]
    events = schema["paths"]["/api/v1/telemetry/events"]["post"]["security"]
    assert {"ApiKeyAuth": []} in events and {"jwtAuth": []} in events
    assert schema["paths"]["/api/v1/auth/api-keys/current"]["get"]["security"] == [{"ApiKeyAuth": []}]
    assert set(schema["components"]["securitySchemes"]) >= {"jwtAuth", "ApiKeyAuth"}


def test_the_login_throttle_is_in_the_schema_with_its_setting_and_retry_after(schema):
    throttled = schema["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]
    assert "THROTTLE_LOGIN" in throttled["description"] and "10/min" in throttled["description"]
    assert "Retry-After" in throttled["headers"]


def test_the_api_conventions_document_every_throttle_and_retry_after(settings):
    text = (ROOT / "docs" / "api.md").read_text()
    for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]:
        assert f"`THROTTLE_{scope.upper()}`" in text, scope
    assert re.search(r"429.*Retry-After", text)
    for code in ("token_invalid", "token_expired", "not_authenticated", "api_key_invalid", "api_key_not_accepted_here"):
        assert f"`{code}`" in text, code


def test_the_login_throttle_answers_429_with_retry_after(driver):
    client = APIClient()
    body = {"email": driver.email, "password": "correct-horse-42"}
    answers = [client.post("/api/v1/auth/token", body).status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]
    throttled = client.post("/api/v1/auth/token", body)
    assert int(throttled["Retry-After"]) >= 1
    assert throttled.json()["code"] == "throttled"
