"""Telemetry ingest: HTTP (gunicorn, 1000-reading batches, several clients) vs raw psycopg COPY, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evcharge_telemetry .venv/bin/python bench/telemetry.py

Both phases write the SAME rows into the SAME table (telemetry_reading, emptied before each phase), in
1000-row batches, one transaction per batch, from the same number of concurrent clients:
- raw: psycopg COPY ... FROM STDIN (text format) per batch (no validation, no dedupe, no latest state, no events);
- http: POST /api/v1/telemetry/events with an operator's API key through gunicorn on loopback (parse,
  validate, authorise, insert ON CONFLICT DO NOTHING, upsert latest state, health, one outbox event).
Prints readings/s for both, the ratio (goal: http >= 50% of raw) and the table size per million readings.
Options: --readings N (default 100000), --clients N (default 4), --workers N (gunicorn, default 3),
--rounds N (alternating raw/http rounds, medians reported; default 3). With CELERY_BROKER_URL set the
events transport is rabbitmq (the relay runs in a worker, as in production), else inline (in the request).
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("PAYMENT_GATEWAY", "apps.billing.gateways.TestGateway")  # named: no default outside embedded
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("EVENTS_TRANSPORT", "rabbitmq" if os.environ.get("CELERY_BROKER_URL") else "inline")

BATCH = 1000
CHARGERS = 50
COLUMNS = "ts, charger_id, connector_id, kind, energy_wh, power_w, voltage_v, current_a, soc_pct, temperature_c"
COPY_SQL = f"COPY telemetry_reading ({COLUMNS}) FROM STDIN (FORMAT BINARY)"
COPY_TYPES = ("timestamptz", "uuid", "uuid", "int2", "int8", "int4", "float8", "float8", "float8", "float8")


def setup_django():
    import django

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (the benchmark measures PostgreSQL).")
    django.setup()
    from django.core.management import call_command

    # every context: the ones that consume telemetry.ingested.v1 (reservations) and the one telemetry asks which
    # chargers speak OCPP (chargepoints) need their tables, as in production
    call_command("migrate", interactive=False, verbosity=0)


def make_fleet():
    """An operator, its API key and CHARGERS chargers (2 connectors each) in telemetry's read model."""
    from apps.identity import services as identity
    from apps.identity.models import Operator
    from apps.telemetry import services as telemetry
    from evcharge.actor import Actor
    from evcharge.contracts.stations import ChargerInfo, ConnectorInfo, Location, StationCreated

    operator, _ = Operator.objects.get_or_create(name="Bench Charging")
    _, key = identity.api_key_create(name="bench", by=Actor.system(), operator_id=operator.id)
    chargers = [
        ChargerInfo(
            charger_id=uuid.uuid4(),
            serial=f"BENCH-{i}",
            max_power_kw=150.0,
            connectors=[
                ConnectorInfo(
                    connector_id=uuid.uuid4(), number=n, type="CCS2", max_power_kw=150.0, status="Available", code=""
                )
                for n in (1, 2)
            ],
        )
        for i in range(CHARGERS)
    ]
    station = StationCreated(
        station_id=uuid.uuid4(),
        operator_id=operator.id,
        name="Bench station",
        timezone="UTC",
        location=Location(latitude=0.0, longitude=0.0),
        chargers=chargers,
    )
    telemetry.chargers_sync_from_station(station=station)
    return key, chargers


def make_batches(chargers, readings: int) -> list[list[dict]]:
    """Meter readings, 1 s apart per connector, ending a minute ago; each batch covers 10 chargers."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=readings // (CHARGERS * 2) + 120)
    batches = []
    per_batch_chargers = 10
    rows_per_connector = BATCH // (per_batch_chargers * 2)
    step = 0
    while len(batches) * BATCH < readings:
        group = chargers[(len(batches) * per_batch_chargers) % CHARGERS :][:per_batch_chargers]
        if (len(batches) * per_batch_chargers) % CHARGERS == 0 and batches:
            step += rows_per_connector
        batch = []
        for charger in group:
            for connector in charger.connectors:
                for k in range(rows_per_connector):
                    second = step + k
                    batch.append(
                        {
                            "charger_id": str(charger.charger_id),
                            "connector_id": str(connector.connector_id),
                            "ts": (start + timedelta(seconds=second)).isoformat().replace("+00:00", "Z"),
                            "kind": "meter",
                            "energy_wh": 1_000_000 + second * 40,
                            "power_w": 144_000 + k,
                            "voltage_v": 400.5,
                            "current_a": 360.2,
                            "soc_pct": 42.0,
                            "temperature_c": 31.5,
                        }
                    )
        batches.append(batch)
    return batches


def as_row(item: dict) -> tuple:
    return (
        datetime.fromisoformat(item["ts"]),
        uuid.UUID(item["charger_id"]),
        uuid.UUID(item["connector_id"]),
        1,
        item["energy_wh"],
        item["power_w"],
        item["voltage_v"],
        item["current_a"],
        item["soc_pct"],
        item["temperature_c"],
    )


def run_clients(clients: int, batches: list, send) -> float:
    """Sends every batch with `clients` threads; returns the elapsed seconds."""
    cursor = iter(range(len(batches)))
    lock = threading.Lock()
    errors: list[str] = []

    def worker():
        state = {}
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            try:
                send(state, batches[index])
            except Exception as exc:
                errors.append(repr(exc))
                return

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        sys.exit(f"errors: {errors[:3]}")
    return elapsed


def truncate(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE telemetry_reading, telemetry_lateststate")
        conn.execute("DELETE FROM events_outboxmessage WHERE type = 'telemetry.ingested.v1'")


def count_and_size(dsn: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE telemetry_reading")
        count = conn.execute("SELECT count(*) FROM telemetry_reading").fetchone()[0]
        size = conn.execute("SELECT pg_total_relation_size('telemetry_reading')").fetchone()[0]
    return count, size


def raw_copy(dsn: str, clients: int, rows: list[list[tuple]]) -> float:
    import psycopg

    def send(state, batch):  # one transaction per batch, as the HTTP path
        if "conn" not in state:
            state["conn"] = psycopg.connect(dsn)
        conn = state["conn"]
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"COPY telemetry_reading ({COLUMNS}) FROM STDIN") as copy,
        ):
            for row in batch:
                copy.write_row(row)

    return run_clients(clients, rows, send)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "WARNING", "DEBUG": "false", "DB_CONN_MAX_AGE": "600"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "evcharge.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/health/live", timeout=10).status_code == 200:
                return server, base
        except requests.RequestException:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit("gunicorn did not start")


def http_ingest(base: str, key: str, clients: int, bodies: list[bytes]) -> float:
    import requests

    url = f"{base}/api/v1/telemetry/events"
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}

    def send(state, body):
        session = state.setdefault("session", requests.Session())
        response = session.post(url, data=body, headers=headers, timeout=120)
        if response.status_code != 202:
            raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

    return run_clients(clients, bodies, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    dsn = connection.get_connection_params()
    dsn = " ".join(f"{k}={v}" for k, v in dsn.items() if k in ("dbname", "user", "password", "host", "port") and v)
    key, chargers = make_fleet()
    batches = make_batches(chargers, args.readings)
    total = len(batches) * BATCH
    rows = [[as_row(item) for item in batch] for batch in batches]
    bodies = [json.dumps(batch).encode() for batch in batches]
    print(
        f"{total} readings in {len(batches)} batches of {BATCH}, {args.clients} clients, "
        f"{args.workers} gunicorn workers, events transport {os.environ['EVENTS_TRANSPORT']}"
    )

    server, base = start_gunicorn(args.workers)
    rounds = []
    try:  # the server runs in its own process group, stopped whatever happens
        http_ingest(base, key, args.clients, bodies[: max(1, args.clients)])  # warm the workers up
        # Alternating rounds, so that a burst of load from elsewhere on the machine hits both sides.
        for _ in range(args.rounds):
            truncate(dsn)
            raw_seconds = raw_copy(dsn, args.clients, rows)
            raw_count, _ = count_and_size(dsn)
            assert raw_count == total, (raw_count, total)
            truncate(dsn)
            http_seconds = http_ingest(base, key, args.clients, bodies)
            http_count, size = count_and_size(dsn)
            assert http_count == total, (http_count, total)
            raw_rate, http_rate = total / raw_seconds, total / http_seconds
            rounds.append((raw_rate, http_rate))
            print(f"  round: raw {raw_rate:,.0f}/s, http {http_rate:,.0f}/s, ratio {http_rate / raw_rate:.2f}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    raw_rate = statistics.median(r for r, _ in rounds)
    http_rate = statistics.median(h for _, h in rounds)
    print(f"raw COPY:      {raw_rate:10,.0f} readings/s  (median of {len(rounds)} rounds)")
    print(f"HTTP ingest:   {http_rate:10,.0f} readings/s  (median of {len(rounds)} rounds)")
    print(f"ratio HTTP/raw: {http_rate / raw_rate:.2f}  (goal >= 0.50)")
    print(
        f"table size:    {size / 1e6:.1f} MB for {http_count:,} readings = {size / http_count:.0f} B/reading "
        f"= {size / http_count:.0f} MB per million (heap + primary key + BRIN)"
    )


if __name__ == "__main__":
    main()
