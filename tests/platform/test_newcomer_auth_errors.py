"""Issue 18, points 6 and 7: every auth failure is a sentence a person can act on, with a stable `code`."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import access_token_for


def _refused(response, code: str) -> dict:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert "ErrorDetail" not in body["detail"] and "{" not in body["detail"], body["detail"]
    return body


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _expired_access_token(user) -> str:
    from apps.identity.api.serializers import TokenObtainSerializer

    token = TokenObtainSerializer.get_token(user).access_token
    token.set_exp(from_time=timezone.now() - timedelta(hours=2))
    return str(token)


def _login(user) -> dict:
    response = APIClient().post("/api/v1/auth/token", {"email": user.email, "password": "correct-horse-42"})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_garbled_bearer_token_answers_token_invalid():
    body = _refused(_bearer("not-a-jwt").get("/api/v1/auth/me"), "token_invalid")
    assert "log in again" in body["detail"]


def test_an_expired_access_token_answers_token_expired_and_says_how_to_get_a_new_one(driver):
    body = _refused(_bearer(_expired_access_token(driver)).get("/api/v1/auth/me"), "token_expired")
    assert "/api/v1/auth/token/refresh" in body["detail"]


def test_a_refresh_token_sent_as_bearer_is_named_for_what_it_is(driver):
    body = _refused(_bearer(_login(driver)["refresh"]).get("/api/v1/auth/me"), "token_invalid")
    assert "refresh token" in body["detail"]


def test_no_credentials_answers_not_authenticated_naming_what_the_route_takes():
    body = _refused(APIClient().get("/api/v1/auth/me"), "not_authenticated")
    assert "Authorization: Bearer" in body["detail"]


def test_a_bad_refresh_token_answers_token_invalid():
    _refused(APIClient().post("/api/v1/auth/token/refresh", {"refresh": "garbage"}), "token_invalid")


def test_a_refresh_token_used_twice_answers_token_invalid_saying_it_works_once(driver):
    refresh = _login(driver)["refresh"]
    assert APIClient().post("/api/v1/auth/token/refresh", {"refresh": refresh}).status_code == 200
    body = _refused(APIClient().post("/api/v1/auth/token/refresh", {"refresh": refresh}), "token_invalid")
    assert "once" in body["detail"]


def test_an_expired_refresh_token_answers_token_expired(driver):
    from apps.identity.api.serializers import TokenObtainSerializer

    refresh = TokenObtainSerializer.get_token(driver)
    refresh.set_exp(from_time=timezone.now() - timedelta(days=30))
    body = _refused(APIClient().post("/api/v1/auth/token/refresh", {"refresh": str(refresh)}), "token_expired")
    assert "log in again" in body["detail"]


def test_a_wrong_password_answers_credentials_invalid(driver):
    response = APIClient().post("/api/v1/auth/token", {"email": driver.email, "password": "wrong-password-1"})
    _refused(response, "credentials_invalid")


def test_a_valid_api_key_on_a_bearer_only_route_says_the_route_takes_no_api_keys(api_key_for, operator_org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(operator_org)}")
    body = _refused(client.get(f"/api/v1/telemetry/stations/{uuid4()}/latest"), "api_key_not_accepted_here")
    assert "does not take API keys" in body["detail"]
    assert "Bearer" in body["detail"]


def test_an_unknown_api_key_answers_api_key_invalid():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key evk_00000000_nope")
    _refused(client.get("/api/v1/auth/api-keys/current"), "api_key_invalid")


def test_a_bearer_token_on_an_api_key_only_route_says_so(driver):
    body = _refused(_bearer(access_token_for(driver)).get("/api/v1/auth/api-keys/current"), "token_not_accepted_here")
    assert "API key" in body["detail"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer"])
def test_an_unusable_authorization_header_is_a_sentence_not_a_repr(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] in {"credentials_not_accepted_here", "bad_authorization_header"}
