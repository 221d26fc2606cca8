from datetime import timedelta

import jwt
import pytest
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from tests.conftest import access_token_for
from tests.helpers import assert_problem

TOKEN, REFRESH, VERIFY, ME = (
    "/api/v1/auth/token",
    "/api/v1/auth/token/refresh",
    "/api/v1/auth/token/verify",
    "/api/v1/auth/me",
)
PASSWORD = "correct-horse-42"


def login(client, user, password=PASSWORD):
    return client.post(TOKEN, {"email": user.email, "password": password}, format="json")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_login_returns_tokens_carrying_role_and_operator(anon, operator_user):
    response = login(anon, operator_user)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    access = claims(body["access"])
    assert access["user_id"] == str(operator_user.id)
    assert access["role"] == "operator"
    assert access["operator_id"] == str(operator_user.operator_id)
    assert access["token_type"] == "access"


def test_login_is_case_insensitive_on_the_email(anon, driver):
    response = anon.post(TOKEN, {"email": driver.email.upper(), "password": PASSWORD}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "inactive"])
def test_bad_credentials_answer_401(anon, driver, who):
    email, password = driver.email, PASSWORD
    if who == "wrong-password":
        password = "not-the-password"
    elif who == "unknown-user":
        email = "nobody@example.test"
    else:
        driver.is_active = False
        driver.save()
    response = anon.post(TOKEN, {"email": email, "password": password}, format="json")
    assert_problem(response, 401)


def test_login_without_fields_is_400(anon):
    assert_problem(anon.post(TOKEN, {}, format="json"), 400, fields=("email", "password"))


def test_login_is_throttled_with_a_problem(anon, driver, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min", "register": "30/hour"})
    statuses = [login(anon, driver, "wrong-password-x").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    throttled = login(anon, driver)  # even the right password waits
    body = assert_problem(throttled, 429)
    assert int(throttled["Retry-After"]) > 0
    assert body["retry_after_seconds"] > 0


def test_refresh_rotates_and_the_old_refresh_token_is_dead(anon, driver):
    first = login(anon, driver).json()
    rotated = anon.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.content
    body = rotated.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != first["refresh"]
    assert claims(body["access"])["user_id"] == str(driver.id)

    reused = anon.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert_problem(reused, 401)
    again = anon.post(REFRESH, {"refresh": body["refresh"]}, format="json")
    assert again.status_code == 200


def test_refresh_carries_a_new_role_at_once(anon, admin_client, driver, operator_org):
    tokens = login(anon, driver).json()
    admin_client.put(
        f"/api/v1/auth/users/{driver.id}/role", {"role": "operator", "operator_id": str(operator_org.id)}, format="json"
    )
    refreshed = anon.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").json()
    access = claims(refreshed["access"])
    assert access["role"] == "operator"
    assert access["operator_id"] == str(operator_org.id)


def test_refresh_for_a_deactivated_user_is_401(anon, driver):
    tokens = login(anon, driver).json()
    driver.is_active = False
    driver.save()
    assert_problem(anon.post(REFRESH, {"refresh": tokens["refresh"]}, format="json"), 401)


def test_an_access_token_is_not_a_refresh_token_and_vice_versa(anon, driver):
    tokens = login(anon, driver).json()
    assert_problem(anon.post(REFRESH, {"refresh": tokens["access"]}, format="json"), 401)
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['refresh']}")
    assert_problem(anon.get(ME), 401)


def test_verify(anon, driver):
    tokens = login(anon, driver).json()
    assert anon.post(VERIFY, {"token": tokens["access"]}, format="json").status_code == 200
    assert_problem(anon.post(VERIFY, {"token": tokens["access"] + "x"}, format="json"), 401)
    assert_problem(anon.post(VERIFY, {"token": "garbage"}, format="json"), 401)
    anon.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert_problem(anon.post(VERIFY, {"token": tokens["refresh"]}, format="json"), 401)  # blacklisted


def test_me_needs_a_token(anon):
    assert_problem(anon.get(ME), 401)


def test_me_reads_the_user(client_for, operator_user):
    response = client_for(operator_user).get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": str(operator_user.id),
        "email": operator_user.email,
        "name": operator_user.name,
        "role": "operator",
        "operator_id": str(operator_user.operator_id),
    }


def _expired_access_token(user) -> str:
    from apps.identity.api.serializers import TokenObtainSerializer

    access = TokenObtainSerializer.get_token(user).access_token
    access.set_exp(from_time=timezone.now() - timedelta(hours=1))
    return str(access)


def _tampered(token: str) -> str:
    header, _payload, signature = token.split(".")
    forged = jwt.encode(
        claims(token) | {"role": "admin"}, "not-our-key-0123456789-0123456789-abcdef", algorithm="HS256"
    ).split(".")[1]
    return ".".join([header, forged, signature])


@pytest.mark.parametrize("make_token", [_expired_access_token, lambda user: _tampered(access_token_for(user))])
def test_expired_and_tampered_tokens_are_401(anon, driver, make_token):
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(driver)}")
    response = anon.get(ME)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_signed_with_another_key_is_401(anon, driver):
    forged = jwt.encode(
        {"user_id": str(driver.id), "role": "admin", "token_type": "access", "exp": 4102444800, "jti": "x"},
        "someone-elses-key-0123456789-0123456789",
        algorithm="HS256",
    )
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_problem(anon.get(ME), 401)


@pytest.mark.postgres
def test_a_refresh_token_presented_twice_at_once_rotates_once(anon, driver):
    from rest_framework.test import APIClient

    from tests.helpers import run_concurrently

    refresh = login(anon, driver).json()["refresh"]
    statuses = run_concurrently(lambda _: APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code, 4)
    assert sorted(statuses) == [200, 401, 401, 401]
