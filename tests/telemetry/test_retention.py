from datetime import UTC, datetime, time, timedelta

from apps.telemetry import services
from apps.telemetry.models import DailyRollup, Reading
from apps.telemetry.readings import ReadingIn
from evcharge.actor import Actor


def _day_start(days_ago: int) -> datetime:
    today = datetime.now(UTC).date()
    return datetime.combine(today - timedelta(days=days_ago), time.min, tzinfo=UTC)


def _ingest(charger, rows):
    readings = [ReadingIn(index=i, charger_id=charger.charger_id, **row) for i, row in enumerate(rows)]
    services.telemetry_ingest(readings=readings, by=Actor.system())


def test_old_raw_readings_are_rolled_up_then_dropped(charger, station, settings):
    settings.TELEMETRY_RETENTION_DAYS = 3
    settings.TELEMETRY_OFFLINE_AFTER_SECONDS = 300
    first, second = charger.connectors[0].connector_id, charger.connectors[1].connector_id
    old_day = _day_start(5)
    _ingest(
        charger,
        [
            dict(connector_id=first, ts=old_day + timedelta(hours=8), kind="meter", energy_wh=10_000, power_w=7_000),
            dict(
                connector_id=first,
                ts=old_day + timedelta(hours=8, minutes=4),
                kind="meter",
                energy_wh=10_500,
                power_w=9_000,
            ),
            dict(connector_id=first, ts=old_day + timedelta(hours=8, minutes=8), kind="meter", energy_wh=11_000),
            dict(connector_id=second, ts=old_day + timedelta(hours=9), kind="meter", energy_wh=500, power_w=3_000),
            dict(connector_id=second, ts=old_day + timedelta(hours=9, minutes=2), kind="meter", energy_wh=800),
            dict(connector_id=None, ts=old_day + timedelta(hours=23, minutes=59), kind="heartbeat"),
        ],
    )
    recent_day = _day_start(1)
    _ingest(charger, [dict(connector_id=first, ts=recent_day + timedelta(hours=1), kind="meter", energy_wh=20_000)])

    result = services.telemetry_retention_enforce()

    assert result.readings_deleted == 6
    assert Reading.objects.count() == 1
    rollup = DailyRollup.objects.get(day=old_day.date(), charger_id=charger.charger_id)
    assert rollup.station_id == station.station_id
    assert rollup.energy_wh == (11_000 - 10_000) + (800 - 500)
    assert rollup.max_power_w == 9_000
    assert rollup.uptime_seconds == 8 * 60 + 2 * 60  # gaps within the offline threshold only
    assert rollup.reading_count == 6

    again = services.telemetry_retention_enforce()
    assert again.readings_deleted == 0
    assert DailyRollup.objects.get(day=old_day.date()).energy_wh == 1_300  # not recomputed from nothing


def test_rollups_expire_after_their_own_retention(charger, settings):
    settings.TELEMETRY_ROLLUP_RETENTION_DAYS = 10
    DailyRollup.objects.create(day=_day_start(11).date(), charger_id=charger.charger_id, station_id=charger.charger_id)
    DailyRollup.objects.create(day=_day_start(9).date(), charger_id=charger.charger_id, station_id=charger.charger_id)

    result = services.telemetry_retention_enforce()

    assert result.rollups_deleted == 1
    assert list(DailyRollup.objects.values_list("day", flat=True)) == [_day_start(9).date()]


def test_recent_days_are_rolled_up_by_the_beat_task(charger):
    today = _day_start(0)
    now = datetime.now(UTC)
    _ingest(
        charger,
        [
            dict(
                connector_id=charger.connectors[0].connector_id,
                ts=min(now, today + timedelta(seconds=30)),
                kind="meter",
                energy_wh=1,
            )
        ],
    )
    assert services.rollup_recent() == 1
    assert DailyRollup.objects.filter(day=today.date()).count() == 1
