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


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")


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
