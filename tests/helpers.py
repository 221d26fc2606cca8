"""Helpers the context test suites share."""

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Outside CI a missing service skips the test, saying why; in CI that skip is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_missing() -> str | None:
    """What is missing for a test that needs PostgreSQL, or None."""
    if connection.vendor != "postgresql":
        return "PostgreSQL (set DATABASE_URL=postgres://...)"
    return None


def rabbitmq_missing(broker_url: str) -> str | None:
    """What is missing for a test that needs RabbitMQ, or None."""
    if not broker_url.startswith("amqp"):
        return "RabbitMQ (set CELERY_BROKER_URL=amqp://...)"
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"RabbitMQ, and the one at {broker_url} is unreachable: {exc}"
    return None


def require_services(*, postgres: bool = False, rabbitmq: bool = False, broker_url: str = "") -> None:
    """Skips (fails in CI) naming every service the test needs and does not have, not only the first."""
    missing = [
        problem
        for needed, check in ((postgres, postgres_missing), (rabbitmq, lambda: rabbitmq_missing(broker_url)))
        if needed and (problem := check())
    ]
    if missing:
        skip_or_fail("this test needs " + " and ".join(missing))


def require_postgres() -> None:
    require_services(postgres=True)


def run_concurrently(fn: Callable[[int], Any], count: int, *, timeout: float = 60) -> list[Any]:
    """Runs fn(i) in `count` real threads released at the same moment; returns results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = fn(index)
        except BaseException as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


def assert_problem(response, status: int, *, fields: tuple[str, ...] = ()) -> dict:
    """The response is an RFC 9457 problem+json with this status (and `errors` naming these fields)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["type"] and body["title"] and "detail" in body, body
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


class OcppChargers:
    """Stands in for the chargepoints facade: the given chargers have OCPP credentials and are offline."""

    def __init__(self, *charger_ids) -> None:
        self.charger_ids = set(charger_ids)

    def links(self, charger_ids):
        from evcharge.contracts.chargepoints import OcppLink

        return {
            charger_id: OcppLink(charger_id=charger_id, connected=False, last_seen_at=None)
            for charger_id in charger_ids
            if charger_id in self.charger_ids
        }

    def is_online(self, charger_id) -> bool:
        return False


def speak_ocpp(monkeypatch, *charger_ids) -> None:
    from evcharge.contracts import chargepoints

    monkeypatch.setattr(chargepoints._slot, "_implementation", OcppChargers(*charger_ids))
