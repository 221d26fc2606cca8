"""/health/live and /health/ready: what load balancers and Kubernetes probes ask."""

import socket

import pytest
from django.db import connection
from django.db.utils import load_backend

from evcharge.platform import health


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_live_needs_nothing(anon):
    response = anon.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_the_database(anon, settings):
    settings.CELERY_BROKER_URL = ""
    response = anon.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.fixture
def unreachable_database(monkeypatch):
    """A real connection of the configured backend to a database that cannot be reached."""
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-dir/evcharge.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
        settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "connect_timeout": 2}
    broken = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="unreachable")
    monkeypatch.setattr(health, "connection", broken)
    yield
    broken.close()


def test_ready_is_503_when_the_database_is_unreachable(anon, settings, unreachable_database):
    settings.CELERY_BROKER_URL = ""
    response = anon.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "unavailable", "checks": {"database": "failing"}}  # nothing about why


def test_ready_tells_the_public_nothing_of_the_failure_and_logs_it(anon, settings, monkeypatch, caplog):
    def broken():
        return 'OperationalError: connection to server at "db.internal.example" (10.0.4.7), port 5432 failed'

    monkeypatch.setattr(health, "_check_database", broken)
    settings.CELERY_BROKER_URL = "amqp://evcharge:s3cret@mq.internal.example:5672/evcharge"
    monkeypatch.setattr(health, "_check_broker", lambda: "ConnectionRefusedError: [Errno 111] mq.internal.example:5672")
    with caplog.at_level("ERROR", logger="evcharge.health"):
        response = anon.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "failing", "broker": "failing"}}
    text = response.content.decode()
    for secret in ("internal.example", "10.0.4.7", "5432", "5672", "Error", "s3cret"):
        assert secret not in text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "db.internal.example" in logged and "mq.internal.example" in logged


def test_ready_is_503_when_the_configured_broker_is_unreachable(anon, settings):
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    response = anon.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "failing"}


def test_probes_answer_over_plain_http_in_production(anon, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert anon.get("/health/live").status_code == 200
    assert anon.get("/api/v1/auth/me").status_code == 301


def test_metrics_are_served_for_prometheus(anon):
    anon.get("/health/live")
    response = anon.get("/metrics")
    assert response.status_code == 200
    body = response.content.decode()
    assert "django_http_requests_total_by_method_total" in body
    assert "evcharge_events_" in body  # the event backbone's relay and consumer metrics


def test_metrics_answer_prometheus_scraping_the_pod_ip(anon, settings):
    settings.ALLOWED_HOSTS = ["evcharge.example.com"]
    assert anon.get("/metrics", HTTP_HOST="10.1.2.3:8000").status_code == 200


def test_probes_answer_whatever_the_host_header(anon, settings):
    """Kubelets probe with the pod's IP as Host; the API itself still validates the host."""
    settings.ALLOWED_HOSTS = ["evcharge.example.com"]
    assert anon.get("/health/live", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert anon.get("/health/ready", HTTP_HOST="10.1.2.3:8000").status_code in (200, 503)
    assert anon.get("/api/v1/auth/me", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_metrics_need_the_token_when_one_is_configured(anon, settings):
    settings.METRICS_TOKEN = "scrape-token-123"
    response = anon.get("/metrics")
    assert response.status_code == 401 and response["Content-Type"].startswith("application/problem+json")
    assert "django_http" not in response.content.decode()
    assert anon.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ok = anon.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-123")
    assert ok.status_code == 200 and "django_http_requests_total_by_method_total" in ok.content.decode()
