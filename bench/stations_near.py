"""Benchmark: the `near=lat,lon&radius_km` station search against a raw SQL baseline.

    .venv/bin/python bench/stations_near.py     # DATABASE_URL from the environment (default: evcharge_stations)

It migrates the database, bulk-inserts BENCH_STATIONS stations (default 20000, each with one charger
and two connectors) spread over Europe, then times, for the same random query points:

- raw SQL: one hand-written query computing the haversine distance for every row in the database
  (no ORM, no chargers): the floor a "just ask the database" approach costs;
- naive: every station loaded through the ORM and filtered by distance in Python;
- ours: selectors.station_list(near=...) — a latitude/longitude box the location index can use, then the
  exact distance, its filter and the order computed by the database, chargers and connectors prefetched
  (what GET /stations serves, which then loads one page of it).

- page: what GET /stations?near=… answers: the first page (PAGE, 50) of ours, nearest first, against raw SQL
  ordering by the same distance with LIMIT PAGE (ids only: no prefetch).

It prints the median milliseconds per query of each and the ratios. The rows are deleted afterwards.
Knobs (environment): BENCH_STATIONS, BENCH_QUERIES (default 50), BENCH_RADIUS_KM (default 25).
"""

import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/evcharge_stations")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghij")
os.environ.setdefault("PAYMENT_GATEWAY", "apps.billing.gateways.TestGateway")  # named: no default outside embedded
os.environ.setdefault("EVENTS_TRANSPORT", "inline")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.stations import selectors  # noqa: E402
from apps.stations.models import Charger, Connector, Station  # noqa: E402

STATIONS = int(os.environ.get("BENCH_STATIONS", 20000))
QUERIES = int(os.environ.get("BENCH_QUERIES", 50))
RADIUS_KM = float(os.environ.get("BENCH_RADIUS_KM", 25))
PAGE = 50
OPERATOR_ID = uuid.UUID("00000000-0000-4000-8000-0000000be4c4")

DISTANCE_SQL = """2 * 6371.0088 * asin(least(1, sqrt(
    power(sin(radians(latitude - %(lat)s) / 2), 2)
    + cos(radians(%(lat)s)) * cos(radians(latitude)) * power(sin(radians(longitude - %(lon)s) / 2), 2)
)))"""
RAW_SQL = f"SELECT id FROM stations_station WHERE {DISTANCE_SQL} <= %(radius)s"
RAW_PAGE_SQL = (
    f"SELECT id FROM (SELECT id, {DISTANCE_SQL} AS d FROM stations_station) hits "
    "WHERE d <= %(radius)s ORDER BY d LIMIT %(page)s"
)


def seed(rng: random.Random) -> None:
    print(f"seeding {STATIONS} stations ...", flush=True)
    stations = [
        Station(
            operator_id=OPERATOR_ID,
            name=f"Bench {i}",
            latitude=rng.uniform(36, 60),
            longitude=rng.uniform(-9, 30),
            timezone="Europe/Berlin",
            status="available",
        )
        for i in range(STATIONS)
    ]
    Station.objects.bulk_create(stations, batch_size=2000)
    chargers = [Charger(station=s, serial=f"BENCH-{s.id}", max_power_kw=50) for s in stations]
    Charger.objects.bulk_create(chargers, batch_size=2000)
    connectors = [
        Connector(charger=c, number=n, type="CCS2", max_power_kw=50, code=f"B{c.id.hex[:10]}{n}")
        for c in chargers
        for n in (1, 2)
    ]
    Connector.objects.bulk_create(connectors, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE stations_station, stations_charger, stations_connector"
            if connection.vendor == "postgresql"
            else "ANALYZE"
        )


def timed(fn, points) -> tuple[float, list[int]]:
    durations, counts = [], []
    for lat, lon in points:
        started = time.perf_counter()
        counts.append(fn(lat, lon))
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations), counts


def raw_sql(lat: float, lon: float) -> int:
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, {"lat": lat, "lon": lon, "radius": RADIUS_KM})
        return len(cursor.fetchall())


def raw_sql_page(lat: float, lon: float) -> int:
    with connection.cursor() as cursor:
        cursor.execute(RAW_PAGE_SQL, {"lat": lat, "lon": lon, "radius": RADIUS_KM, "page": PAGE})
        return len(cursor.fetchall())


def ours_page(lat: float, lon: float) -> int:
    near = selectors.Near(latitude=lat, longitude=lon, radius_km=RADIUS_KM)
    stations = list(selectors.station_list(near=near)[:PAGE])
    for station in stations:
        for charger in station.chargers.all():
            list(charger.connectors.all())
    return len(stations)


def naive(lat: float, lon: float) -> int:
    return sum(
        1
        for s in Station.objects.only("id", "latitude", "longitude")
        if selectors.haversine_km(lat, lon, s.latitude, s.longitude) <= RADIUS_KM
    )


def ours(lat: float, lon: float) -> int:
    stations = selectors.station_list(near=selectors.Near(latitude=lat, longitude=lon, radius_km=RADIUS_KM))
    for station in stations:  # touch what the API serializes
        for charger in station.chargers.all():
            list(charger.connectors.all())
    return len(stations)


def main() -> None:
    if connection.vendor != "postgresql":
        print("note: not PostgreSQL; RAW_SQL needs PostgreSQL math functions", file=sys.stderr)
    call_command("migrate", verbosity=0)
    Station.objects.filter(operator_id=OPERATOR_ID).delete()
    rng = random.Random(42)
    seed(rng)
    points = [(rng.uniform(40, 56), rng.uniform(-4, 25)) for _ in range(QUERIES)]
    try:
        raw_ms, raw_counts = timed(raw_sql, points)
        naive_ms, naive_counts = timed(naive, points)
        ours_ms, ours_counts = timed(ours, points)
        raw_page_ms, raw_page_counts = timed(raw_sql_page, points)
        ours_page_ms, ours_page_counts = timed(ours_page, points)
    finally:
        Station.objects.filter(operator_id=OPERATOR_ID).delete()
    assert ours_counts == naive_counts, "ours and the naive scan disagree"
    assert ours_counts == raw_counts, "ours and the raw SQL disagree"
    assert ours_page_counts == raw_page_counts, "the pages disagree"
    print(
        f"{STATIONS} stations, {QUERIES} queries, radius {RADIUS_KM:g} km, "
        f"{statistics.mean(ours_counts):.1f} hits/query"
    )
    print(f"raw SQL haversine (ids only)   : {raw_ms:8.2f} ms/query (median)")
    print(f"naive ORM scan + Python filter : {naive_ms:8.2f} ms/query")
    print(f"ours (box + prefetch + exact)  : {ours_ms:8.2f} ms/query")
    print(f"ratio ours / raw SQL           : {ours_ms / raw_ms:8.2f}x  (lower is better)")
    print(f"ratio naive / ours             : {naive_ms / ours_ms:8.2f}x  (speed-up over the naive scan)")
    print(f"page of {PAGE}, raw SQL (ids)     : {raw_page_ms:8.2f} ms/query")
    print(f"page of {PAGE}, ours (as the API) : {ours_page_ms:8.2f} ms/query")
    print(f"ratio page ours / raw SQL      : {ours_page_ms / raw_page_ms:8.2f}x  (lower is better)")


if __name__ == "__main__":
    main()
