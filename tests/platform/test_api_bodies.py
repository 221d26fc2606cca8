"""Request bodies an attacker controls: too large (413 before reading), nested too deep (400), too many
form fields (400). Never a 500, whichever route receives them."""

import uuid

import pytest

from tests.helpers import assert_problem

TWENTY_MB = 20 * 1024 * 1024
DEEP = 100_000

# (client fixture, method, path): routes that read a JSON body, each called by a role allowed to call it
WRITE_ROUTES = [
    ("anon", "post", "/api/v1/auth/register"),
    ("anon", "post", "/api/v1/auth/token"),
    ("driver_client", "post", "/api/v1/sessions"),
    ("driver_client", "post", "/api/v1/reservations"),
    ("driver_client", "post", "/api/v1/pricing/promotions/evaluate"),
    ("driver_client", "post", "/api/v1/billing/payment-methods"),
    ("operator_client", "post", "/api/v1/stations"),
    ("operator_client", "post", "/api/v1/pricing/rate-plans"),
    ("operator_client", "post", "/api/v1/auth/api-keys"),
    ("admin_client", "put", "/api/v1/admin/config/flags.anything"),
    ("admin_client", "put", f"/api/v1/auth/users/{uuid.uuid4()}/role"),
    ("admin_client", "patch", f"/api/v1/stations/{uuid.uuid4()}"),
]


@pytest.fixture(scope="module")
def twenty_mb_json() -> bytes:
    return b'{"name": "' + b"x" * TWENTY_MB + b'"}'


def send(client, method: str, path: str, body: bytes, **extra):
    return getattr(client, method)(path, data=body, content_type="application/json", **extra)


@pytest.mark.parametrize(("who", "method", "path"), WRITE_ROUTES)
def test_a_20_mb_json_body_is_413_problem_json(request, who, method, path, twenty_mb_json):
    response = send(request.getfixturevalue(who), method, path, twenty_mb_json, HTTP_IDEMPOTENCY_KEY="k-413")
    body = assert_problem(response, 413)
    assert body["code"] == "payload_too_large"
    assert body["max_bytes"] == 2_621_440


def test_the_limit_is_a_setting_and_a_body_just_under_it_is_read(anon, settings):
    settings.API_MAX_BODY_BYTES = 200
    body = b'{"email": "someone@example.test", "password": "%s"}' % (b"p" * 100)
    assert len(body) <= 200
    assert anon.post("/api/v1/auth/token", data=body, content_type="application/json").status_code == 401
    padded = body[:-1] + b" " * (201 - len(body)) + b"}"
    assert_problem(anon.post("/api/v1/auth/token", data=padded, content_type="application/json"), 413)


def test_a_route_may_have_its_own_limit(anon, settings):
    settings.API_MAX_BODY_BYTES = 100
    settings.API_MAX_BODY_BYTES_BY_PATH = {"/api/v1/auth/token": 10_000}
    body = b'{"email": "someone@example.test", "password": "%s"}' % (b"p" * 500)
    assert anon.post("/api/v1/auth/token", data=body, content_type="application/json").status_code == 401
    assert_problem(anon.post("/api/v1/auth/register", data=body, content_type="application/json"), 413)


def test_a_content_length_that_is_not_a_number_is_400(anon):
    body = b'{"email": "someone@example.test", "password": "wrong-password-1"}'
    response = anon.generic("POST", "/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 401
    response = anon.generic("POST", "/api/v1/auth/token", body, content_type="application/json", CONTENT_LENGTH="9x")
    body = assert_problem(response, 400)
    assert "Content-Length" in body["detail"]


def test_a_body_django_refuses_while_reading_is_413_not_500(anon, settings):
    """Past the Content-Length check (a route with a larger limit), Django's own limit still refuses the
    form fields it reads into memory: RequestDataTooBig maps to 413."""
    settings.API_MAX_BODY_BYTES = 10_000_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = anon.post("/api/v1/auth/register", data={"email": "a@example.test", "password": "x" * 5_000})
    assert_problem(response, 413)


def test_too_many_form_fields_are_400_not_500(anon):
    fields = "&".join(f"f{i}=1" for i in range(2_000))
    response = anon.post("/api/v1/auth/register", data=fields, content_type="application/x-www-form-urlencoded")
    assert_problem(response, 400)


@pytest.fixture(scope="module")
def deep_json() -> bytes:
    return b"[" * DEEP + b"]" * DEEP


@pytest.mark.parametrize(("who", "method", "path"), WRITE_ROUTES)
def test_100000_deep_json_is_400_problem_json(request, who, method, path, deep_json):
    response = send(request.getfixturevalue(who), method, path, deep_json, HTTP_IDEMPOTENCY_KEY="k-deep")
    body = assert_problem(response, 400)
    assert "nested deeper than 64" in body["detail"]


def test_deep_objects_inside_a_valid_body_are_400(driver_client):
    nested = b'{"a": ' * 65 + b"1" + b"}" * 65
    response = send(driver_client, "post", "/api/v1/pricing/promotions/evaluate", b'{"code": ' + nested + b"}")
    assert_problem(response, 400)


def test_checkout_reads_its_body_for_the_idempotency_fingerprint_and_still_answers_400(driver_client, deep_json):
    response = send(
        driver_client, "post", f"/api/v1/billing/invoices/{uuid.uuid4()}/checkout", deep_json, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert_problem(response, 400)


def test_nesting_up_to_the_limit_and_brackets_inside_strings_are_fine(driver_client):
    within = b'{"code": ' + b"[" * 63 + b"1" + b"]" * 63 + b', "note": "' + b"[" * 500 + b'"}'
    response = send(driver_client, "post", "/api/v1/pricing/promotions/evaluate", within)
    assert response.status_code == 400
    assert "nested deeper" not in response.json()["detail"]
    assert "code" in response.json()["errors"]  # parsed: the serializer judged the field


def test_the_depth_scan_counts_only_structure():
    from evcharge.api.parsers import json_depth

    assert json_depth(b"1") == 0
    assert json_depth(b'{"a": [1, {"b": "[[[{{{"}], "c\\"[": [[]]}') == 3
    assert json_depth(b"[" * DEEP + b"]" * DEEP) == DEEP


def test_the_depth_limit_holds_whatever_the_charset(driver_client):
    deep = ("[" * 1000 + "]" * 1000).encode("utf-16")
    response = driver_client.post(
        "/api/v1/pricing/promotions/evaluate", data=deep, content_type="application/json; charset=utf-16"
    )
    assert_problem(response, 400)
