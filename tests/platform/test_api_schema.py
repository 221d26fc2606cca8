"""The OpenAPI schema generates without warnings, and the docs page serves it."""

import io

import yaml
from django.core.management import call_command


def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    err = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=err)
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/register" in schema["paths"]
    assert "/api/v1/auth/api-keys/current" in schema["paths"]
    assert {"jwtAuth", "ApiKeyAuth"} <= set(schema["components"]["securitySchemes"])


def test_schema_endpoint_and_docs_page(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/auth/token" in schema.json()["paths"]
    docs = anon.get("/api/docs/")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode().lower()
