"""Faults injected against real PostgreSQL and RabbitMQ, each service reached through a TCP proxy the test
controls (tests/faults.py), so no test stops a shared service. After each fault: every completed session has
exactly one invoice, is counted once in reporting, the outbox drains, nothing is dead."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.db import close_old_connections, connection
from django.db.models import Count, Sum

from apps.billing.models import Invoice
from apps.reporting.models import DailyRollup, SessionFact
from apps.reservations.models import ChargingSession
from apps.reservations.models import Connector as SessionConnector
from apps.telemetry.models import Charger as TelemetryCharger
from evcharge.events.models import DeadLetter, OutboxMessage
from tests.conftest import access_token_for
from tests.faults import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = 10
METER_START_WH = 1_000


def through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))


class Network:
    """An operator's station with CONNECTORS connectors, priced, each charger having reported its meter; a
    driver who starts a session and the charger (its operator's key) that stops it with its meter."""

    def __init__(self, bus, operator_client, driver_client, charger_client) -> None:
        self.driver, self.charger = driver_client, charger_client
        plan = {"name": "Standard", "currency": "EUR", "energy_price_per_kwh": 39, "is_default": True}
        assert operator_client.post("/api/v1/pricing/rate-plans", plan, format="json").status_code == 201
        chargers = [
            {"serial": f"FAULT-{i}", "max_power_kw": 50, "connectors": [{"number": 1, "type": "CCS2"}]}
            for i in range(CONNECTORS)
        ]
        station = {
            "name": "Fault Line",
            "address": "Somewhere 1",
            "latitude": 52.5,
            "longitude": 13.4,
            "timezone": "Europe/Berlin",
            "chargers": chargers,
        }
        created = operator_client.post("/api/v1/stations", station, format="json")
        assert created.status_code == 201, created.content
        self.connectors = [(c["id"], c["connectors"][0]["id"]) for c in created.json()["chargers"]]
        charger_ids, connector_ids = ({ids[n] for ids in self.connectors} for n in (0, 1))
        bus.wait_until(  # the contexts learn the station from station.created.v1
            lambda: (
                TelemetryCharger.objects.filter(charger_id__in=charger_ids).count() == CONNECTORS
                and SessionConnector.objects.filter(id__in=connector_ids).count() == CONNECTORS
            )
        )
        readings = [
            {
                "charger_id": charger_id,
                "connector_id": connector_id,
                "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "kind": "meter",
                "energy_wh": METER_START_WH,
            }
            for charger_id, connector_id in self.connectors
        ]
        reported = charger_client.post("/api/v1/telemetry/events", readings, format="json")
        assert reported.status_code == 202, reported.content

    def charge(self, index: int) -> str:
        connector_id = self.connectors[index % CONNECTORS][1]
        started = self.driver.post("/api/v1/sessions", {"connector_id": connector_id}, format="json")
        assert started.status_code == 201, started.content
        session_id = started.json()["id"]
        stop = {"meter_stop_wh": METER_START_WH + 500}
        stopped = self.charger.post(f"/api/v1/sessions/{session_id}/stop", stop, format="json")
        assert stopped.status_code == 200 and stopped.json()["energy_wh"] == 500, stopped.content
        return session_id


@pytest.fixture
def network(bus, operator_client, driver_client, client_for, api_key_for, operator_org):
    return Network(bus, operator_client, driver_client, client_for(api_key=api_key_for(operator_org)))


def assert_everything_accounted_for(bus, session_ids: list[str], *, timeout: float = 120) -> None:
    expected = {str(s) for s in session_ids}

    def invoiced():
        bus.relay()
        return Invoice.objects.filter(session_id__in=expected).count() == len(expected) and (
            SessionFact.objects.filter(session_id__in=expected, status=SessionFact.COMPLETED).count() == len(expected)
        )

    bus.wait_until(invoiced, timeout=timeout, message="every session invoiced and reported")
    bus.settle(timeout=timeout)
    assert ChargingSession.objects.filter(status="completed").count() == len(expected)
    per_session = Invoice.objects.values("session_id").annotate(n=Count("id"))
    assert {str(row["session_id"]) for row in per_session} == expected and {row["n"] for row in per_session} == {1}
    assert DailyRollup.objects.aggregate(total=Sum("sessions"))["total"] == len(expected)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists(), "the outbox did not drain"
    assert not OutboxMessage.objects.filter(dead_at__isnull=False).exists()
    assert not DeadLetter.objects.exists()


@pytest.fixture
def broker_proxy(bus, settings):
    from evcharge.events.transports import reset_transports

    direct = settings.EVENTS_BROKER_URL
    proxy = TcpProxy(urlsplit(direct).hostname, urlsplit(direct).port or 5672)
    bus.stop()
    settings.EVENTS_BROKER_URL = through(direct, proxy)
    reset_transports()
    bus.start()
    yield proxy
    bus.stop()
    settings.EVENTS_BROKER_URL = direct
    reset_transports()
    proxy.close()


def test_the_broker_link_cut_for_20_s_while_200_sessions_run_loses_nothing(bus, network, broker_proxy, settings):
    settings.EVENTS_RELAY_MAX_ATTEMPTS = 50  # the relay keeps trying through the cut (backoff up to 600 s)
    restored = threading.Event()
    stranded_during_the_cut = []

    def cut_for_20_seconds():
        time.sleep(0.5)
        broker_proxy.cut()
        time.sleep(20)
        stranded_during_the_cut.append(OutboxMessage.objects.filter(sent_at__isnull=True).count())
        connection.close()  # this thread's own connection
        broker_proxy.restore()
        restored.set()

    threading.Thread(target=cut_for_20_seconds, daemon=True).start()
    session_ids = [network.charge(i) for i in range(200)]
    assert restored.wait(30)
    assert stranded_during_the_cut[0] > 0, "the cut did not stop the relay"
    OutboxMessage.objects.filter(sent_at__isnull=True).update(available_at=datetime.now(UTC))  # skip the backoff

    assert_everything_accounted_for(bus, session_ids)


def consumer_process(settings) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EVENTS_BROKER_URL": settings.EVENTS_BROKER_URL,
        "EVENTS_EXCHANGE": settings.EVENTS_EXCHANGE,
        "EVENTS_QUEUE_PREFIX": settings.EVENTS_QUEUE_PREFIX,
        "EVENTS_TRANSPORT": "rabbitmq",
        "EVENTS_HANDLER_RETRY_DELAY_SECONDS": "0.05",
        "PAYMENT_GATEWAY": settings.PAYMENT_GATEWAY,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "events_consume"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_consumer_killed_with_sigkill_mid_burst_and_restarted_loses_and_repeats_nothing(bus, network, settings):
    bus.stop()  # the consumer is a process of its own here, as in production
    worker = consumer_process(settings)
    try:
        session_ids = []
        for i in range(120):
            session_ids.append(network.charge(i))
            if i == 60:
                bus.wait_until(lambda: Invoice.objects.exists(), timeout=60, message="the worker consumes")
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
        worker = consumer_process(settings)
        assert_everything_accounted_for(bus, session_ids)
    finally:
        worker.kill()
        worker.wait(10)


@pytest.fixture
def database_proxy():
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    original = db["HOST"], db["PORT"]
    connection.close()
    db["HOST"], db["PORT"] = "127.0.0.1", proxy.port
    yield proxy
    proxy.restore()
    connection.close()
    db["HOST"], db["PORT"] = original
    proxy.close()


def test_the_database_dropped_mid_burst_answers_503_at_once_and_the_web_recovers_alone(
    bus, network, database_proxy, driver, live_server
):
    web = requests.Session()  # a real server: its request cycle closes broken connections as production does
    web.headers["Authorization"] = f"Bearer {access_token_for(driver)}"
    web.headers["X-Forwarded-Proto"] = "https"  # as the TLS-ending ingress says (SECURE_SSL_REDIRECT is on)
    session_ids = [network.charge(i) for i in range(20)]
    assert web.get(f"{live_server.url}/api/v1/sessions", timeout=5).json()["count"] == 20

    database_proxy.cut()
    for _ in range(5):
        began = time.monotonic()
        response = web.get(f"{live_server.url}/api/v1/sessions", timeout=5)
        assert time.monotonic() - began < 1.0, "the request hung"
        assert response.status_code == 503, response.content
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "database_unavailable" and response.headers["Retry-After"]
    database_proxy.restore()

    response = web.get(f"{live_server.url}/api/v1/sessions", timeout=5)  # no restart: it reconnects by itself
    assert response.status_code == 200 and response.json()["count"] == 20
    close_old_connections()  # the test's own thread (not the web) drops its broken connection
    session_ids += [network.charge(i) for i in range(20, 40)]
    assert_everything_accounted_for(bus, session_ids)
