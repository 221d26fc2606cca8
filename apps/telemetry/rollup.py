"""A day of raw readings boiled down per charger: energy, max power, estimated uptime, count.

- energy_wh: per connector, max - min of the cumulative meter readings of the day; summed per charger.
- max_power_w: the highest power_w reported.
- uptime_seconds: the time between consecutive events of the charger (any kind) that are no further apart
  than the offline threshold, i.e. the time it was observably in contact.
PostgreSQL computes it in one aggregate query over the day's ts range; SQLite (embedded) in Python.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import connection

from apps.telemetry.models import Kind, Reading


@dataclass(frozen=True)
class DayFigures:
    charger_id: UUID
    energy_wh: int
    max_power_w: int | None
    uptime_seconds: int
    reading_count: int


DAY_FIGURES_SQL = """
WITH day AS (
    SELECT charger_id, connector_id, ts, kind, energy_wh, power_w,
           ts - lag(ts) OVER (PARTITION BY charger_id ORDER BY ts) AS gap
    FROM telemetry_reading
    WHERE ts >= %(start)s AND ts < %(end)s
), energy AS (
    SELECT charger_id, SUM(span) AS energy_wh FROM (
        SELECT charger_id, MAX(energy_wh) - MIN(energy_wh) AS span
        FROM day WHERE kind = %(meter)s AND energy_wh IS NOT NULL
        GROUP BY charger_id, connector_id
    ) spans GROUP BY charger_id
)
SELECT day.charger_id,
       COALESCE(MAX(energy.energy_wh), 0),
       MAX(day.power_w),
       COALESCE(SUM(EXTRACT(EPOCH FROM gap)) FILTER (WHERE gap <= %(gap_limit)s * INTERVAL '1 second'), 0),
       COUNT(*)
FROM day LEFT JOIN energy ON energy.charger_id = day.charger_id
GROUP BY day.charger_id
"""


def day_figures(*, start: datetime, end: datetime, gap_limit: int) -> list[DayFigures]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                DAY_FIGURES_SQL, {"start": start, "end": end, "meter": int(Kind.METER), "gap_limit": gap_limit}
            )
            return [
                DayFigures(
                    charger_id=charger_id,
                    energy_wh=int(energy),
                    max_power_w=max_power,
                    uptime_seconds=int(uptime),
                    reading_count=count,
                )
                for charger_id, energy, max_power, uptime, count in cursor.fetchall()
            ]
    return _day_figures_portable(start=start, end=end, gap_limit=gap_limit)


def _day_figures_portable(*, start: datetime, end: datetime, gap_limit: int) -> list[DayFigures]:
    rows = (
        Reading.objects.filter(ts__gte=start, ts__lt=end)
        .order_by("charger_id", "ts")
        .values_list("charger_id", "connector_id", "ts", "kind", "energy_wh", "power_w")
    )
    figures: dict[UUID, dict] = {}
    for charger_id, connector_id, ts, kind, energy_wh, power_w in rows.iterator(chunk_size=5000):
        f = figures.setdefault(
            charger_id, {"spans": {}, "max_power": None, "uptime": 0.0, "count": 0, "previous": None}
        )
        f["count"] += 1
        if power_w is not None and (f["max_power"] is None or power_w > f["max_power"]):
            f["max_power"] = power_w
        if kind == Kind.METER and energy_wh is not None:
            low, high = f["spans"].get(connector_id, (energy_wh, energy_wh))
            f["spans"][connector_id] = (min(low, energy_wh), max(high, energy_wh))
        if f["previous"] is not None:
            gap = (ts - f["previous"]).total_seconds()
            if gap <= gap_limit:
                f["uptime"] += gap
        f["previous"] = ts
    return [
        DayFigures(
            charger_id=charger_id,
            energy_wh=sum(high - low for low, high in f["spans"].values()),
            max_power_w=f["max_power"],
            uptime_seconds=int(f["uptime"]),
            reading_count=f["count"],
        )
        for charger_id, f in figures.items()
    ]
