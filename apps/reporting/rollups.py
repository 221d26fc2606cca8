"""Pure calendar arithmetic for the read model: local days, their lengths, buckets, and what one session
adds to the daily rollups. No database here, so the event path and the bulk path (bench) share it."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

GROUP_BYS = ("day", "week", "month")

# A contribution row: [day ISO, currency, sessions, energy_wh, revenue_amount, paid_amount, occupied_seconds]
Contribution = list
SUM_FIELDS = ("sessions", "energy_wh", "revenue_amount", "paid_amount", "occupied_seconds")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant the local day starts (DST-aware)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@lru_cache(maxsize=65536)
def day_seconds(day: date, tz_name: str) -> int:
    """How long a local day lasts: 86400, or 82800/90000 on DST change days."""
    tz = zone(tz_name)
    return int((local_midnight(day + timedelta(days=1), tz) - local_midnight(day, tz)).total_seconds())


@lru_cache(maxsize=4096)
def period_seconds(first: date, last: date, tz_name: str) -> int:
    """Seconds in the local days first..last (inclusive)."""
    tz = zone(tz_name)
    return int((local_midnight(last + timedelta(days=1), tz) - local_midnight(first, tz)).total_seconds())


def split_by_local_day(start: datetime, end: datetime, tz_name: str) -> Iterator[tuple[date, int]]:
    """[start, end) cut at local midnights: (local date, whole seconds in it), in order."""
    if end <= start:
        return
    tz = zone(tz_name)
    day = start.astimezone(tz).date()
    cursor = start
    while cursor < end:
        next_midnight = local_midnight(day + timedelta(days=1), tz)
        piece_end = min(end, next_midnight)
        yield day, int((piece_end - cursor).total_seconds())
        cursor, day = piece_end, day + timedelta(days=1)


def session_contribution(
    *,
    started_at: datetime | None,
    ended_at: datetime | None,
    completed: bool,
    currency: str,
    energy_wh: int,
    revenue_amount: int,
    paid_amount: int,
    tz_name: str,
) -> list[Contribution]:
    """What one session adds to its station's daily rollups. Only completed sessions count: sessions, energy
    and money on the local day it started; occupied connector-seconds on each local day it spans."""
    if not completed or started_at is None or ended_at is None or not currency:
        return []
    rows: dict[str, Contribution] = {}
    for day, seconds in split_by_local_day(started_at, max(ended_at, started_at), tz_name):
        rows[day.isoformat()] = [day.isoformat(), currency, 0, 0, 0, 0, seconds]
    start_day = started_at.astimezone(zone(tz_name)).date().isoformat()
    first = rows.setdefault(start_day, [start_day, currency, 0, 0, 0, 0, 0])
    first[2:6] = [1, energy_wh, revenue_amount, paid_amount]
    return list(rows.values())


def contribution_delta(old: list[Contribution], new: list[Contribution]) -> list[Contribution]:
    """new - old per (day, currency); rows that do not move are left out."""
    totals: dict[tuple[str, str], list[int]] = {}
    for sign, rows in ((-1, old), (1, new)):
        for day, currency, *values in rows:
            current = totals.setdefault((day, currency), [0] * len(SUM_FIELDS))
            for index, value in enumerate(values):
                current[index] += sign * value
    return [[day, currency, *values] for (day, currency), values in totals.items() if any(values)]


def bucket_start(day: date, group_by: str) -> date:
    if group_by == "week":
        return day - timedelta(days=day.weekday())
    if group_by == "month":
        return day.replace(day=1)
    return day


def buckets(first: date, last: date, group_by: str) -> list[tuple[date, date]]:
    """The buckets covering first..last, each (start, end) clipped to the range, ends inclusive."""
    result = []
    start = first
    while start <= last:
        if group_by == "day":
            following = start + timedelta(days=1)
        elif group_by == "week":
            following = bucket_start(start, "week") + timedelta(days=7)
        else:
            following = (bucket_start(start, "month") + timedelta(days=32)).replace(day=1)
        end = min(following - timedelta(days=1), last)
        result.append((start, end))
        start = following
    return result
