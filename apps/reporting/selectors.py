"""Reads: the three reports, from the daily rollups and the station rows only (never the session facts),
so their cost grows with stations x days, not with the number of sessions."""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from django.db.models import Count, QuerySet, Sum

from apps.reporting.models import DailyRollup, MonthlyRollup, ReservationFact, StationDim
from apps.reporting.rollups import SUM_FIELDS, bucket_start, buckets, period_seconds

OCCUPIED_STATUSES = {"Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing"}


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Which stations a caller may see: operator_id None means all (admins)."""

    operator_id: UUID | None = None
    station_id: UUID | None = None
    currency: str | None = None


def station_status(*, enabled: bool, connector_statuses: dict) -> str:
    """One word for the station, from its connectors' latest OCPP statuses."""
    statuses = [held[0] for held in connector_statuses.values()]
    if not enabled:
        return "Disabled"
    if not statuses:
        return "Unknown"
    if "Available" in statuses:
        return "Available"
    if OCCUPIED_STATUSES.intersection(statuses):
        return "Occupied"
    if "Reserved" in statuses:
        return "Reserved"
    if all(status == "Faulted" for status in statuses):
        return "Faulted"
    return "Unavailable"


def station_get(station_id: UUID) -> StationDim | None:
    return StationDim.objects.filter(station_id=station_id).first()


def stations_in_scope(scope: Scope) -> QuerySet[StationDim]:
    stations = StationDim.objects.all()
    if scope.operator_id is not None:
        stations = stations.filter(operator_id=scope.operator_id)
    if scope.station_id is not None:
        stations = stations.filter(station_id=scope.station_id)
    return stations


def _sums() -> dict:
    return {field: Sum(field) for field in SUM_FIELDS}


def _spans(first: date, last: date) -> list[tuple[type, date, date]]:
    """first..last as daily rollups for partial months at either end and monthly rollups for the whole
    months in between."""
    months_from = first if first.day == 1 else (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    after_last = last + timedelta(days=1)
    months_to = last if after_last.day == 1 else last.replace(day=1) - timedelta(days=1)  # inclusive
    if months_from > months_to:
        return [(DailyRollup, first, last)]
    spans: list[tuple[type, date, date]] = []
    if first < months_from:
        spans.append((DailyRollup, first, months_from - timedelta(days=1)))
    spans.append((MonthlyRollup, months_from, months_to.replace(day=1)))
    if months_to < last:
        spans.append((DailyRollup, months_to + timedelta(days=1), last))
    return spans


def _rollup_sums(
    scope: Scope,
    first: date,
    last: date,
    *,
    by: tuple[str, ...],
    months: bool,
    station_ids: Collection[UUID] | None = None,
) -> list[dict]:
    """Sums of the rollups over first..last grouped by `by` (of station_id, currency, day). With months=True
    whole months are read from the monthly rollups, and their `day` is the month's first day."""
    result: list[dict] = []
    for model, span_first, span_last in _spans(first, last) if months else [(DailyRollup, first, last)]:
        period = "month" if model is MonthlyRollup else "day"
        rows = model.objects.filter(**{f"{period}__gte": span_first, f"{period}__lte": span_last})
        if scope.operator_id is not None:
            rows = rows.filter(operator_id=scope.operator_id)
        if scope.station_id is not None:
            rows = rows.filter(station_id=scope.station_id)
        if station_ids is not None:
            rows = rows.filter(station_id__in=list(station_ids))
        if scope.currency is not None:
            rows = rows.filter(currency=scope.currency)
        fields = [period if key == "day" else key for key in by]
        for row in rows.values(*fields).annotate(**_sums()).order_by(*fields):
            if period == "month" and "day" in by:
                row["day"] = row.pop("month")
            result.append(row)
    return result


def stations_report(*, scope: Scope, first: date, last: date, limit: int | None = None, offset: int = 0) -> list[dict]:
    """Per station over first..last (local days): sessions, energy, revenue per currency, utilization, status.
    `limit`/`offset` page through the stations (by name); only the page's stations are read."""
    columns = ("station_id", "name", "operator_id", "timezone", "connector_count", "enabled", "connector_statuses")
    in_scope = stations_in_scope(scope).order_by("name", "station_id").values(*columns)
    stations = list(in_scope[offset : offset + limit] if limit is not None else in_scope[offset:])
    if not stations:
        return []
    figures: dict[UUID, dict] = {
        dim["station_id"]: {"sessions": 0, "energy_wh": 0, "occupied_seconds": 0, "revenue": []} for dim in stations
    }
    paged = limit is not None or offset > 0
    revenue: dict[tuple[UUID, str], dict] = {}
    station_ids = figures.keys() if paged else None
    for row in _rollup_sums(scope, first, last, by=("station_id", "currency"), months=True, station_ids=station_ids):
        station = figures.get(row["station_id"])
        if station is None:
            continue
        station["sessions"] += row["sessions"]
        station["energy_wh"] += row["energy_wh"]
        station["occupied_seconds"] += row["occupied_seconds"]
        money = revenue.get((row["station_id"], row["currency"]))
        if money is None:
            money = revenue[(row["station_id"], row["currency"])] = {
                "currency": row["currency"],
                "amount": 0,
                "paid_amount": 0,
            }
            station["revenue"].append(money)
        money["amount"] += row["revenue_amount"]
        money["paid_amount"] += row["paid_amount"]
    reservations: dict[UUID, dict[str, int]] = defaultdict(dict)
    reservation_rows = (
        ReservationFact.objects.filter(local_day__gte=first, local_day__lte=last, station_id__in=figures.keys())
        .values("station_id", "status")
        .annotate(count=Count("reservation_id"))
    )
    for row in reservation_rows:
        reservations[row["station_id"]][row["status"]] = row["count"]
    report = []
    for dim in stations:
        station = figures[dim["station_id"]]
        capacity = dim["connector_count"] * period_seconds(first, last, dim["timezone"])
        counts = reservations.get(dim["station_id"], {})
        report.append(
            {
                "station_id": dim["station_id"],
                "name": dim["name"],
                "operator_id": dim["operator_id"],
                "timezone": dim["timezone"],
                "status": station_status(enabled=dim["enabled"], connector_statuses=dim["connector_statuses"]),
                "connectors": dim["connector_count"],
                "sessions": station["sessions"],
                "energy_wh": station["energy_wh"],
                "revenue": station["revenue"],
                "occupied_seconds": station["occupied_seconds"],
                "capacity_seconds": capacity,
                "utilization": _share(station["occupied_seconds"], capacity),
                "reservations": sum(counts.values()),
                "no_shows": counts.get(ReservationFact.EXPIRED, 0),
            }
        )
    return report


def report_currencies(*, scope: Scope, first: date, last: date) -> list[str]:
    """The currencies the stations in scope have money in over first..last."""
    return sorted({row["currency"] for row in _rollup_sums(scope, first, last, by=("currency",), months=True)})


def revenue_report(*, scope: Scope, first: date, last: date, group_by: str, currency: str | None = None) -> list[dict]:
    """Sessions, energy and money per bucket (station-local days) and currency; buckets without sessions
    are left out."""
    scope = replace(scope, currency=currency or None)
    folded: dict[tuple[date, str], dict[str, int]] = {}
    rows = _rollup_sums(scope, first, last, by=("day", "currency"), months=group_by == "month")
    for row in rows:
        key = (max(bucket_start(row["day"], group_by), first), row["currency"])
        bucket = folded.setdefault(key, dict.fromkeys(SUM_FIELDS, 0))
        for field in SUM_FIELDS:
            bucket[field] += row[field]
    ends = dict(buckets(first, last, group_by))
    return [
        {
            "period_start": start,
            "period_end": ends[start],
            "currency": bucket_currency,
            "sessions": sums["sessions"],
            "energy_wh": sums["energy_wh"],
            "revenue_amount": sums["revenue_amount"],
            "paid_amount": sums["paid_amount"],
        }
        for (start, bucket_currency), sums in sorted(folded.items())
        if sums["sessions"] or sums["revenue_amount"] or sums["paid_amount"]
    ]


def utilization_report(*, scope: Scope, first: date, last: date, group_by: str) -> list[dict]:
    """Per bucket: connector-seconds occupied by sessions over connector-seconds available (every bucket)."""
    occupied: dict[date, int] = defaultdict(int)
    for row in _rollup_sums(scope, first, last, by=("day",), months=group_by == "month"):
        occupied[max(bucket_start(row["day"], group_by), first)] += row["occupied_seconds"]
    connectors_per_zone: dict[str, int] = defaultdict(int)
    for row in stations_in_scope(scope).values("timezone").annotate(connectors=Sum("connector_count")):
        connectors_per_zone[row["timezone"]] += row["connectors"] or 0
    report = []
    for start, end in buckets(first, last, group_by):
        capacity = sum(count * period_seconds(start, end, tz) for tz, count in connectors_per_zone.items())
        report.append(
            {
                "period_start": start,
                "period_end": end,
                "occupied_seconds": occupied.get(start, 0),
                "capacity_seconds": capacity,
                "utilization": _share(occupied.get(start, 0), capacity),
            }
        )
    return report


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def operator_stations(operator_id: UUID | None) -> list[tuple[UUID, str]]:
    """(station_id, name) of the stations in the operator's scope (all for None), by name."""
    return list(
        stations_in_scope(Scope(operator_id=operator_id))
        .order_by("name", "station_id")
        .values_list("station_id", "name")
    )


def stations_count(scope: Scope) -> int:
    return stations_in_scope(scope).count()
