"""Benchmark: the report endpoints on a read model of 1,000,000 sessions against the naive aggregate query.

    .venv/bin/python bench/reports.py     # DATABASE_URL from the environment (default: evcharge_reporting)

1. Migrates the reporting app and empties its read model.
2. Bulk path: 200 stations (four time zones, ten operators), then 1,000,000 completed sessions spread over
   2025, written with COPY. Each fact carries its `applied` contribution, computed by the same
   rollups.session_contribution the event handlers use; the daily rollups are then summed from the facts in
   one SQL statement (services.rollups_rebuild_from_facts) — not one event each.
3. Times GET /api/v1/reports/{stations,revenue,utilization} through Django's test client (authentication,
   view, serialization included) for a month (group_by=day) and the year (group_by=month), for one station
   and for all stations: p50/p99 over BENCH_REQUESTS requests after warm-up.
4. In the same run, times the naive aggregate SQL computing the same figures straight from the 1M session
   facts (local days via AT TIME ZONE, occupancy split per local day with generate_series; given its best
   index, on started_at), and prints the ratios naive / endpoint.

The read model is left loaded (rerun `reporting_rebuild` or this bench to reset it).
Knobs (environment): BENCH_SESSIONS (1000000), BENCH_STATIONS (200), BENCH_REQUESTS (40), BENCH_NAIVE_RUNS (3),
BENCH_REUSE=1 (keep facts a previous run loaded, only sum the rollups again).
"""

import gc
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/evcharge_reporting")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij")
os.environ.setdefault("PAYMENT_GATEWAY", "apps.billing.gateways.TestGateway")  # named: no default outside embedded
os.environ.setdefault("EVENTS_TRANSPORT", "inline")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from apps.reporting import services  # noqa: E402
from apps.reporting.models import SessionFact, StationDim  # noqa: E402
from apps.reporting.rollups import session_contribution  # noqa: E402
from evcharge.actor import Actor  # noqa: E402
from evcharge.api.authentication import Principal  # noqa: E402

SESSIONS = int(os.environ.get("BENCH_SESSIONS", 1_000_000))
STATIONS = int(os.environ.get("BENCH_STATIONS", 200))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))
NAIVE_RUNS = int(os.environ.get("BENCH_NAIVE_RUNS", 3))
REUSE = os.environ.get("BENCH_REUSE", "") == "1"
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
ZONES = [("Europe/Berlin", "EUR"), ("America/New_York", "USD"), ("Europe/London", "GBP"), ("America/Chicago", "USD")]
OPERATORS = [uuid.UUID(int=0xBE4C0000 + i, version=4) for i in range(10)]
COPY_COLUMNS = (
    "session_id, station_id, operator_id, connector_id, user_id, status, currency, started_at, ended_at, "
    "energy_wh, invoice_id, invoice_voided, revenue_amount, discount_amount, paid_amount, applied, updated_at"
)


def load() -> list[StationDim]:
    rng = random.Random(2025)
    call_command("migrate", "reporting", verbosity=0)
    if REUSE and SessionFact.objects.count() == SESSIONS and StationDim.objects.count() == STATIONS:
        print("  BENCH_REUSE=1: keeping the session facts already loaded; rollups are summed again")
        _sum_rollups()
        return list(StationDim.objects.order_by("name"))
    services.read_model_clear()
    stations = []
    for index in range(STATIONS):
        tz_name, _ = ZONES[index % len(ZONES)]
        stations.append(
            StationDim(
                station_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                operator_id=OPERATORS[index % len(OPERATORS)],
                name=f"Bench station {index:03d}",
                timezone=tz_name,
                connector_count=rng.choice([2, 4, 6]),
                connector_statuses={},
                known=True,
            )
        )
    StationDim.objects.bulk_create(stations)
    currencies = {dim.station_id: ZONES[i % len(ZONES)][1] for i, dim in enumerate(stations)}

    started = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY reporting_sessionfact ({COPY_COLUMNS}) FROM STDIN") as copy,
    ):
        buffer = io.StringIO()
        for index in range(SESSIONS):
            dim = stations[rng.randrange(STATIONS)]
            currency = currencies[dim.station_id]
            start = YEAR_START + timedelta(seconds=rng.randrange(365 * 86_400))
            minutes = rng.randint(10, 240)
            end = start + timedelta(minutes=minutes)
            energy = minutes * rng.randint(100, 1500)
            revenue = (energy * 39 + 500) // 1000
            paid = revenue if rng.random() < 0.95 else 0
            applied = session_contribution(
                started_at=start,
                ended_at=end,
                completed=True,
                currency=currency,
                energy_wh=energy,
                revenue_amount=revenue,
                paid_amount=paid,
                tz_name=dim.timezone,
            )
            buffer.write(
                f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\t{dim.station_id}\t{dim.operator_id}\t"
                f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\t{uuid.UUID(int=rng.getrandbits(128), version=4)}\t"
                f"completed\t{currency}\t{start.isoformat()}\t{end.isoformat()}\t{energy}\t"
                f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\tf\t{revenue}\t0\t{paid}\t"
                f"{json.dumps(applied, separators=(',', ':'))}\t{now}\n"
            )
            if index % 20_000 == 19_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
                print(f"\r  copied {index + 1:,} sessions", end="", flush=True)
        copy.write(buffer.getvalue())
    copied = time.perf_counter() - started
    print(f"\r  COPY of {SESSIONS:,} session facts (contributions computed in Python): {copied:.1f} s")

    _sum_rollups()
    return stations


def _sum_rollups() -> None:
    started = time.perf_counter()
    rows = services.rollups_rebuild_from_facts()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reporting_sessionfact")
        cursor.execute("ANALYZE reporting_dailyrollup")
        cursor.execute("CREATE INDEX IF NOT EXISTS bench_fact_started_idx ON reporting_sessionfact (started_at)")
        cursor.execute("SELECT sum(sessions), sum(occupied_seconds) FROM reporting_dailyrollup")
        sessions, occupied = cursor.fetchone()
        cursor.execute("SELECT sum(extract(epoch FROM ended_at - started_at))::bigint FROM reporting_sessionfact")
        (facts_occupied,) = cursor.fetchone()
    print(f"  daily + monthly rollups summed in SQL: {rows:,} daily rows in {time.perf_counter() - started:.1f} s")
    assert sessions == SESSIONS and occupied == facts_occupied, (sessions, occupied, facts_occupied)
    print(f"  check: rollups hold {sessions:,} sessions and {occupied:,} occupied s, as the facts do")


# --- the naive baseline: the same figures straight from the session facts ---

_LOCAL_DAY = "(f.started_at AT TIME ZONE d.timezone)::date"
_NAIVE_WHERE = (
    "f.status = 'completed' AND f.started_at >= %(lo)s AND f.started_at < %(hi)s "
    f"AND {_LOCAL_DAY} BETWEEN %(first)s AND %(last)s {{station}}"
)
NAIVE = {
    "stations": f"""
        SELECT f.station_id, f.currency, count(*), sum(f.energy_wh), sum(f.revenue_amount), sum(f.paid_amount),
               sum(extract(epoch FROM f.ended_at - f.started_at))
        FROM reporting_sessionfact f JOIN reporting_stationdim d ON d.station_id = f.station_id
        WHERE {_NAIVE_WHERE} GROUP BY 1, 2""",
    "revenue": f"""
        SELECT date_trunc(%(unit)s, {_LOCAL_DAY}), f.currency, count(*), sum(f.energy_wh), sum(f.revenue_amount),
               sum(f.paid_amount)
        FROM reporting_sessionfact f JOIN reporting_stationdim d ON d.station_id = f.station_id
        WHERE {_NAIVE_WHERE} GROUP BY 1, 2""",
    "utilization": """
        SELECT date_trunc(%(unit)s, g.day), sum(extract(epoch FROM
                 least(f.ended_at, (g.day + interval '1 day') AT TIME ZONE d.timezone)
               - greatest(f.started_at, g.day AT TIME ZONE d.timezone)))
        FROM reporting_sessionfact f JOIN reporting_stationdim d ON d.station_id = f.station_id
        CROSS JOIN LATERAL generate_series((f.started_at AT TIME ZONE d.timezone)::date::timestamp,
                                           (f.ended_at AT TIME ZONE d.timezone)::date::timestamp,
                                           interval '1 day') AS g(day)
        WHERE f.status = 'completed' AND f.started_at >= %(lo)s AND f.started_at < %(hi)s
          AND g.day::date BETWEEN %(first)s AND %(last)s {station}
        GROUP BY 1""",
}


def naive_ms(report: str, first: date, last: date, unit: str, station_id) -> float:
    sql = NAIVE[report].format(station="AND f.station_id = %(station)s" if station_id else "")
    params = {
        "lo": datetime.combine(first - timedelta(days=2), datetime.min.time(), UTC),
        "hi": datetime.combine(last + timedelta(days=2), datetime.min.time(), UTC),
        "first": first,
        "last": last,
        "unit": unit,
        "station": station_id,
    }
    timings = []
    with connection.cursor() as cursor:
        for _ in range(NAIVE_RUNS):
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def endpoint_ms(client: APIClient, report: str, params: dict) -> tuple[float, float, float]:
    """p50 and p99 wall-clock ms per request, and the median CPU ms this (web) process spent per request."""
    url = f"/api/v1/reports/{report}"
    for _ in range(3):
        assert client.get(url, params).status_code == 200
    gc.collect()
    gc.freeze()  # as evcharge/wsgi.py does in every web process once it has started
    timings, cpu = [], []
    for _ in range(REQUESTS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.content[:300]
    timings.sort()
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    return statistics.median(timings), p99, statistics.median(cpu)


def main() -> None:
    print(f"reporting bench: {SESSIONS:,} sessions, {STATIONS} stations, year 2025, PostgreSQL")
    print(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    started = time.perf_counter()
    stations = load()
    print(f"  load total: {time.perf_counter() - started:.1f} s\n")

    client = APIClient()
    client.force_authenticate(Principal(Actor(user_id=uuid.uuid4(), role="admin")))
    one_station = stations[0].station_id
    periods = {
        "month": (date(2025, 3, 1), date(2025, 3, 31), "day"),
        "year": (date(2025, 1, 1), date(2025, 12, 31), "month"),
    }
    header = (
        f"{'report':<12} {'period':<6} {'scope':<13} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>7} {'naive ms':>9} "
        f"{'naive/p50':>10} {'naive/p99':>10}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for report in ("stations", "revenue", "utilization"):
        for period, (first, last, group_by) in periods.items():
            for scope, station_id in (("one station", one_station), ("all stations", None)):
                params = {"from": first.isoformat(), "to": last.isoformat(), "group_by": group_by}
                if station_id:
                    params["station_id"] = str(station_id)
                p50, p99, cpu = endpoint_ms(client, report, params)
                naive = naive_ms(report, first, last, group_by, station_id)
                results.append((report, period, scope, p50, p99, naive))
                print(
                    f"{report:<12} {period:<6} {scope:<13} {p50:8.1f} {p99:8.1f} {cpu:7.1f} {naive:9.1f} "
                    f"{naive / p50:9.1f}x {naive / p99:9.1f}x",
                    flush=True,
                )
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (wall-clock figures include waiting for a core)")
    worst_p99 = max(r[4] for r in results)
    print(f"worst endpoint p99: {worst_p99:.1f} ms (goal < 100 ms) -> {'met' if worst_p99 < 100 else 'NOT met'}")
    for report, period, scope, _p50, p99, naive in results:
        if naive / p99 < 20:
            print(f"  below 20x naive/p99: {report} {period} {scope} ({naive / p99:.1f}x)")
    print(f"facts in the read model: {SessionFact.objects.count():,}")


if __name__ == "__main__":
    main()
