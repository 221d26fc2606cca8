"""Benchmark: GET /api/v1/pricing/quote against a bare Django JSON view, both served by gunicorn.

    .venv/bin/python bench/quote.py            # DATABASE_URL from the environment (default: evcharge_pricing)

It migrates the database, seeds an operator, a station (handing station.created.v1 to pricing's
subscriber, as pricing learns stations) and a default plan, starts gunicorn on a free loopback port
with a few sync workers, then sends the same bounded number of requests to each endpoint from a pool
of client threads, alternating rounds so both see the same machine load. It prints requests/s, p50
and p99 of each and the ratio (goal: the quote serves at least 60% of the bare view's throughput).

The bare view lives only here: the server process loads this module, which puts it in front of the
project's own urlpatterns (ROOT_URLCONF points at this module inside the benchmark's server only).

Knobs (environment): BENCH_REQUESTS (per endpoint, default 3000), BENCH_CLIENTS (default 8),
BENCH_WORKERS (gunicorn workers, default 3), BENCH_ROUNDS (default 3).
"""

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATION_ID = uuid.UUID("00000000-0000-4000-8000-00000000b001")
OPERATOR_NAME = "Bench Charging"
BARE_PATH = "/bench/bare"

SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "evcharge.settings",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/evcharge_pricing"),
    "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij"),
    "PAYMENT_GATEWAY": "apps.billing.gateways.TestGateway",  # named: there is no default outside embedded mode
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "EVENTS_TRANSPORT": "inline",
    "CELERY_BROKER_URL": "",
}

urlpatterns: list = []  # filled by wsgi_app() in the server process


def bare_view(request):
    from django.http import JsonResponse

    return JsonResponse({"status": "ok", "path": request.path})


def wsgi_app():
    """gunicorn 'quote:wsgi_app()': the project's WSGI app with the bare view routed in front."""
    import django
    from django.conf import settings
    from django.urls import include, path

    django.setup()
    urlpatterns[:] = [path(BARE_PATH.lstrip("/"), bare_view), path("", include(settings.ROOT_URLCONF))]
    settings.ROOT_URLCONF = __name__
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def seed() -> tuple[str, str]:
    """Returns (quote path with query, bearer token)."""
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.identity.models import Operator
    from apps.pricing import handlers, services
    from apps.pricing.models import RatePlan
    from evcharge.actor import Actor
    from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, Location, StationCreated
    from evcharge.events import EventEnvelope

    call_command("migrate", interactive=False, verbosity=0)
    operator, _ = Operator.objects.get_or_create(name=OPERATOR_NAME)
    station = StationCreated(
        station_id=STATION_ID,
        operator_id=operator.id,
        name="Bench station",
        timezone="UTC",
        location=Location(latitude=52.5, longitude=13.4),
        chargers=[
            ChargerInfo(
                charger_id=uuid.UUID("00000000-0000-4000-8000-00000000b002"),
                serial="BENCH-1",
                max_power_kw=150.0,
                connectors=[
                    ConnectorInfo(
                        connector_id=uuid.UUID("00000000-0000-4000-8000-00000000b003"),
                        number=1,
                        type="CCS2",
                        max_power_kw=150.0,
                        status="Available",
                        code="BENCH1",
                    )
                ],
            )
        ],
    )
    # Only pricing's subscriber: the station exists for pricing alone, other contexts need not hear of it.
    handlers.on_station_changed(EventEnvelope.wrap(station))
    if not RatePlan.objects.filter(operator_id=operator.id, is_default=True).exists():
        services.rate_plan_create(
            by=Actor.system(),
            operator_id=operator.id,
            name="Bench default",
            currency="EUR",
            energy_price_per_kwh=39,
            session_fee=50,
            is_default=True,
        )
    token = AccessToken()
    token["user_id"] = str(uuid.uuid4())
    token["role"] = "driver"
    token["operator_id"] = None
    return f"/api/v1/pricing/quote?stationId={STATION_ID}&connectorType=CCS2&kWh=12.345", str(token)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            if get(port, "/health/live", {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready")


def hammer(port: int, path: str, headers: dict, requests: int, clients: int) -> tuple[float, list[float]]:
    """Sends `requests` GETs from `clients` threads; returns (elapsed seconds, latencies in seconds)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = iter(range(requests))

    def client() -> None:
        mine = []
        while True:
            with lock:
                if next(remaining, None) is None:
                    break
            started = time.perf_counter()
            status, body = get(port, path, headers)
            mine.append(time.perf_counter() - started)
            if status != 200:
                with lock:
                    errors.append(f"{status} {body[:200]!r}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} failed requests to {path}, e.g. {errors[0]}")
    return elapsed, latencies


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    requests = int(os.environ.get("BENCH_REQUESTS", "3000"))
    clients = int(os.environ.get("BENCH_CLIENTS", "8"))
    workers = int(os.environ.get("BENCH_WORKERS", "3"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    os.environ.update(SERVER_ENV)
    sys.path[:0] = [str(ROOT)]
    quote_path, token = seed()

    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "quote:wsgi_app()",
            "--pythonpath",
            f"{ROOT / 'bench'},{ROOT}",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(port, server)
        auth = {"Authorization": f"Bearer {token}"}
        status, body = get(port, quote_path, auth)
        if status != 200:
            raise SystemExit(f"the quote answered {status}: {body[:300]!r}")
        print(f"quote answer: {body.decode()}")
        targets = {"bare Django JSON view": (BARE_PATH, {}), "GET /api/v1/pricing/quote": (quote_path, auth)}
        for path, headers in targets.values():  # warm every worker: connections, caches
            hammer(port, path, headers, max(200, workers * 50), clients)
        totals = {name: [0.0, []] for name in targets}
        per_round = max(1, requests // rounds)
        for _ in range(rounds):
            for name, (path, headers) in targets.items():
                elapsed, latencies = hammer(port, path, headers, per_round, clients)
                totals[name][0] += elapsed
                totals[name][1].extend(latencies)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    print(f"\n{per_round * rounds} requests per endpoint, {clients} client threads, gunicorn {workers} sync workers")
    rates = {}
    for name, (elapsed, latencies) in totals.items():
        rates[name] = len(latencies) / elapsed
        print(
            f"{name:28s} {rates[name]:8.1f} req/s   p50 {percentile(latencies, 50) * 1000:6.2f} ms"
            f"   p99 {percentile(latencies, 99) * 1000:6.2f} ms"
        )
    bare, quote = rates.values()
    print(f"ratio quote/bare: {quote / bare:.1%} (goal >= 60%)")


if __name__ == "__main__":
    main()
