"""Calendar arithmetic: local days, DST, buckets."""

from datetime import UTC, date, datetime

from apps.reporting.rollups import buckets, day_seconds, session_contribution, split_by_local_day


def test_a_session_is_split_at_local_midnights():
    start, end = datetime(2026, 1, 31, 22, 30, tzinfo=UTC), datetime(2026, 2, 2, 0, 30, tzinfo=UTC)
    assert list(split_by_local_day(start, end, "Europe/Berlin")) == [
        (date(2026, 1, 31), 1800),
        (date(2026, 2, 1), 86_400),
        (date(2026, 2, 2), 5400),
    ]


def test_dst_days_are_23_and_25_hours_long():
    assert day_seconds(date(2026, 3, 29), "Europe/Berlin") == 23 * 3600
    assert day_seconds(date(2026, 10, 25), "Europe/Berlin") == 25 * 3600
    assert day_seconds(date(2026, 3, 8), "America/New_York") == 23 * 3600


def test_money_counts_on_the_start_day_time_on_every_day():
    rows = session_contribution(
        started_at=datetime(2026, 1, 31, 22, 30, tzinfo=UTC),
        ended_at=datetime(2026, 2, 1, 0, 30, tzinfo=UTC),
        completed=True,
        currency="EUR",
        energy_wh=20_000,
        revenue_amount=780,
        paid_amount=780,
        tz_name="Europe/Berlin",
    )
    assert rows == [["2026-01-31", "EUR", 1, 20_000, 780, 780, 1800], ["2026-02-01", "EUR", 0, 0, 0, 0, 5400]]


def test_buckets_are_clipped_to_the_range():
    assert buckets(date(2026, 1, 15), date(2026, 3, 3), "month") == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 3)),
    ]
    assert buckets(date(2026, 1, 31), date(2026, 2, 3), "week") == [
        (date(2026, 1, 31), date(2026, 2, 1)),
        (date(2026, 2, 2), date(2026, 2, 3)),
    ]
