"""Login throttles that hold: per client address (a forged X-Forwarded-For does not make a new client),
per account for failed attempts, and one budget across processes when the cache is Redis."""

import os
import subprocess
import sys
import textwrap

import environ
import pytest
from django.core.cache import cache
from django.db import connection

from tests.helpers import assert_problem, skip_or_fail

TOKEN = "/api/v1/auth/token"
PASSWORD = "correct-horse-42"


def login(client, email: str, password: str = "wrong-password-1", **extra):
    return client.post(TOKEN, {"email": email, "password": password}, format="json", **extra)


def assert_throttled(response) -> dict:
    body = assert_problem(response, 429)
    assert int(response["Retry-After"]) >= 1
    assert body["retry_after_seconds"] >= 1
    return body


def test_rotating_x_forwarded_for_does_not_escape_the_login_throttle(anon):
    statuses = [
        login(anon, f"nobody-{i}@example.test", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(10)
    ]
    assert statuses == [401] * 10
    assert_throttled(login(anon, "nobody-10@example.test", HTTP_X_FORWARDED_FOR="203.0.113.10"))


def test_behind_trusted_proxies_the_client_is_the_address_the_last_proxy_saw(anon, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for i in range(10):  # the client forges the first entries; the ingress appends the real address
        forged = f"10.9.{i}.1, 198.51.100.7"
        assert login(anon, f"nobody-{i}@example.test", HTTP_X_FORWARDED_FOR=forged).status_code == 401
    assert_throttled(login(anon, "nobody@example.test", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"))
    assert login(anon, "nobody@example.test", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 401


def test_failed_logins_are_limited_per_account_from_any_address(anon, make_user):
    user = make_user(email="alice@example.test")
    for i in range(10):
        spelling = user.email if i % 2 else "  Alice@Example.TEST "  # the same account, however spelled
        assert login(anon, spelling, REMOTE_ADDR=f"192.0.2.{i}").status_code == 401
    body = assert_throttled(login(anon, user.email, PASSWORD, REMOTE_ADDR="192.0.2.200"))
    assert "access" not in body  # even the right password waits: the guesser learns nothing
    assert login(anon, "bob@example.test", REMOTE_ADDR="192.0.2.201").status_code == 401  # others unaffected


def test_successful_logins_do_not_count_against_the_account(anon, make_user, monkeypatch):
    from apps.identity.api.throttles import LoginAccountThrottle

    rates = {**LoginAccountThrottle.THROTTLE_RATES, "login_account": "3/min"}  # THROTTLE_LOGIN_ACCOUNT=3/min
    monkeypatch.setattr(LoginAccountThrottle, "THROTTLE_RATES", rates)
    user = make_user()
    for i in range(6):
        assert login(anon, user.email, PASSWORD, REMOTE_ADDR=f"192.0.2.{i}").status_code == 200
    for i in range(3):
        assert login(anon, user.email, REMOTE_ADDR=f"192.0.2.{10 + i}").status_code == 401
    assert_throttled(login(anon, user.email, PASSWORD, REMOTE_ADDR="192.0.2.20"))


REDIS_URL = os.environ.get("TEST_CACHE_URL", "rediscache://127.0.0.1:6379/4")

OTHER_PROCESS = textwrap.dedent(
    """
    import django
    django.setup()
    from django.test import Client
    client = Client()
    statuses = [
        client.post("/api/v1/auth/token", {"email": EMAIL, "password": "wrong-password-1"},
                    content_type="application/json").status_code
        for _ in range(10)
    ]
    assert statuses == [401] * 10, statuses
    """
)


@pytest.fixture
def redis_cache(settings):
    config = environ.Env.cache_url_config(REDIS_URL)
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {"default": config}
    try:
        cache.clear()
    except Exception as exc:
        skip_or_fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
    yield
    cache.clear()


@pytest.mark.postgres
def test_two_processes_count_against_one_budget_through_redis(anon, make_user, redis_cache):
    """Another process (another pod) spends the account's and the address's budget; this one sees it."""
    user = make_user()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CACHE_URL": REDIS_URL,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "PAYMENT_GATEWAY": "apps.billing.gateways.TestGateway",
    }
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    script = f"EMAIL = {user.email!r}\n" + OTHER_PROCESS
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]

    assert_throttled(login(anon, user.email, PASSWORD, REMOTE_ADDR="192.0.2.50"))  # the account's budget
    assert_throttled(login(anon, "someone-else@example.test", REMOTE_ADDR="127.0.0.1"))  # the address's
