"""Every request gets an id (echoed as X-Request-ID) and one JSON log line with who, what and how long."""

import io
import json
import logging

import pytest

from evcharge.api.logging import JsonFormatter


@pytest.fixture
def request_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("evcharge.request")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line]

    yield lines
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_a_sane_incoming_request_id_is_echoed_and_logged(driver_client, driver, request_log):
    response = driver_client.get("/api/v1/auth/me", HTTP_X_REQUEST_ID="req-abc.123")
    assert response["X-Request-ID"] == "req-abc.123"
    [line] = request_log()
    assert line["request_id"] == "req-abc.123"
    assert line["user_id"] == str(driver.id)
    assert line["status"] == 200
    assert line["method"] == "GET" and line["path"] == "/api/v1/auth/me"
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_a_missing_or_unsafe_request_id_is_replaced(anon, request_log):
    generated = anon.get("/api/v1/auth/me")["X-Request-ID"]
    assert len(generated) == 32
    unsafe = anon.get("/api/v1/auth/me", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert unsafe != "bad id\nwith newline" and len(unsafe) == 32
    first, _second = request_log()
    assert first["request_id"] == generated and first["status"] == 401
    assert "user_id" not in first


def test_health_probes_are_not_logged(anon, request_log):
    anon.get("/health/live")
    assert request_log() == []


def test_events_published_in_a_request_carry_its_id_as_correlation(anon, outbox):
    anon.post(
        "/api/v1/auth/register",
        {"email": "c@example.test", "password": "a-long-secret-42"},
        format="json",
        HTTP_X_REQUEST_ID="corr-1",
    )
    [event] = outbox("user.created.v1")
    assert event.correlationid == "corr-1"
