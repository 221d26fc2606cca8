"""Reservations: the reservation service (validation, overlap pre-check, insert under the PostgreSQL
exclusion constraint, outbox row) vs a raw INSERT into the same table under the same constraint, same run;
and how fast a contended slot is decided.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evcharge_reservations .venv/bin/python bench/reservations.py

Sequential phase: N reservations on K connectors (back-to-back windows, no conflicts), one transaction
each, first through `services.reservation_create`, then the same windows (shifted) as raw
`INSERT ... VALUES` through one cursor. The relay is not woken (in production it runs in a Celery worker),
so the service's cost is its own. Rounds alternate; medians printed with the ratio (service / raw).
Contention phase: T threads ask the service for overlapping windows of one connector at once; prints
how many won (must be 1) and the wall time until all were answered.
Options: --reservations N (default 2000), --connectors K (default 20), --rounds R (default 3),
--threads T (default 20).
"""

import argparse
import os
import statistics
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
os.environ.setdefault("LOG_LEVEL", "WARNING")


def setup():
    import django

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (the exclusion constraint exists on PostgreSQL only).")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    import evcharge.events.relay as relay

    relay.wake_relay_on_commit = lambda **kwargs: None  # the relay is a worker's job, not the request's
    import evcharge.events.outbox as outbox

    outbox.wake_relay_on_commit = relay.wake_relay_on_commit


def make_connectors(count: int, station_id: uuid.UUID, operator_id: uuid.UUID):
    from apps.reservations.models import Connector

    return [
        Connector.objects.create(
            id=uuid.uuid4(),
            station_id=station_id,
            charger_id=uuid.uuid4(),
            operator_id=operator_id,
            station_name="Bench",
            number=i + 1,
            type="CCS2",
            code=uuid.uuid4().hex[:8],
        )
        for i in range(count)
    ]


def windows(connectors, count: int, base: datetime):
    per_connector = -(-count // len(connectors))
    return [
        (connectors[i % len(connectors)].id, base + timedelta(hours=i // len(connectors)))
        for i in range(min(count, per_connector * len(connectors)))
    ]


def run_service(slots, user_id, station_id):
    from apps.reservations import services
    from evcharge.actor import DRIVER, Actor

    by = Actor(user_id=user_id, role=DRIVER)
    started = time.perf_counter()
    for connector_id, starts_at in slots:
        services.reservation_create(
            connector_id=connector_id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=60), by=by
        )
    return time.perf_counter() - started


def run_raw(slots, user_id, station_id, operator_id):
    from django.db import connection, transaction

    sql = (
        "INSERT INTO reservations_reservation (id, user_id, connector_id, station_id, operator_id, starts_at, "
        "ends_at, status, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'confirmed', now())"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for connector_id, starts_at in slots:
            with transaction.atomic():
                cursor.execute(
                    sql,
                    [
                        uuid.uuid4(),
                        user_id,
                        connector_id,
                        station_id,
                        operator_id,
                        starts_at,
                        starts_at + timedelta(minutes=60),
                    ],
                )
    return time.perf_counter() - started


def contention(connector_id, threads: int, base: datetime) -> tuple[int, float]:
    from django.db import connections

    from apps.reservations import services
    from evcharge.actor import DRIVER, Actor
    from evcharge.errors import Conflict

    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    finished: list[float] = []

    def attempt(index: int) -> None:
        by = Actor(user_id=uuid.uuid4(), role=DRIVER)
        starts_at = base + timedelta(minutes=index)
        barrier.wait()
        try:
            services.reservation_create(
                connector_id=connector_id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=60), by=by
            )
            outcomes.append("won")
        except Conflict:
            outcomes.append("409")
        finally:
            finished.append(time.perf_counter())
            connections.close_all()

    workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return outcomes.count("won"), max(finished) - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reservations", type=int, default=2000)
    parser.add_argument("--connectors", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=20)
    options = parser.parse_args()
    setup()
    from apps.reservations.models import Connector, Reservation
    from evcharge.events.models import OutboxMessage

    station_id, operator_id, user_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    connectors = make_connectors(options.connectors, station_id, operator_id)
    service_times, raw_times = [], []
    try:
        for round_number in range(options.rounds):
            base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
            slots = windows(connectors, options.reservations, base)
            # The booking horizon is bounded by settings; the bench books far more slots than a day holds.
            from django.conf import settings

            settings.RESERVATION_MAX_DAYS_AHEAD = 10_000
            service_times.append(run_service(slots, user_id, station_id))
            shifted = [(c, s + timedelta(days=5000)) for c, s in slots]
            raw_times.append(run_raw(shifted, user_id, station_id, operator_id))
            Reservation.objects.filter(station_id=station_id).delete()
            print(f"round {round_number + 1}: service {service_times[-1]:.2f}s, raw {raw_times[-1]:.2f}s")
        won, seconds = contention(connectors[0].id, options.threads, datetime.now(UTC) + timedelta(hours=3))
    finally:
        Reservation.objects.filter(station_id=station_id).delete()
        OutboxMessage.objects.filter(
            type__startswith="reservation.", envelope__data__station_id=str(station_id)
        ).delete()
        Connector.objects.filter(station_id=station_id).delete()

    n = len(windows(connectors, options.reservations, datetime.now(UTC)))
    service, raw = statistics.median(service_times), statistics.median(raw_times)
    print(f"reservations per round: {n} on {options.connectors} connectors, {options.rounds} rounds (medians)")
    print(f"service: {n / service:8.0f} reservations/s  ({service / n * 1000:.2f} ms each)")
    print(f"raw:     {n / raw:8.0f} inserts/s       ({raw / n * 1000:.2f} ms each)")
    print(f"ratio service/raw throughput: {raw / service:.2f}")
    print(
        f"contention: {options.threads} overlapping requests at once -> {won} won, decided in {seconds * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
