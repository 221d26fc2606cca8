"""A test skipped for want of a service names every service it needs: one marked postgres and rabbitmq,
run with neither, says both (outside CI; in CI the same reason fails it)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_test_needing_postgres_and_rabbitmq_says_both_when_skipped(tmp_path):
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/platform/test_events_rabbitmq.py::test_rollback_publishes_nothing",
            "-rs",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env={**keep, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, result.stdout[-3000:]
    assert "PostgreSQL (set DATABASE_URL=postgres://...)" in skipped[0]
    assert "RabbitMQ (set CELERY_BROKER_URL=amqp://...)" in skipped[0]
