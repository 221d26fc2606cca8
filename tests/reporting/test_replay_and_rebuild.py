"""Duplicates, whole-stream replays and the rebuild command all leave the figures as they were."""

import io
import random
from datetime import timedelta

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from apps.reporting import services
from apps.reporting.models import DailyRollup, SessionFact
from evcharge.events import publish
from evcharge.events.dispatch import DUPLICATE, deliver
from evcharge.events.models import ArchivedEvent, OutboxMessage
from evcharge.events.retention import purge_handled

PERIOD = {"from": "2026-01-01", "to": "2026-02-28"}


def figures(client) -> dict:
    return {
        name: client.get(f"/api/v1/reports/{name}", {**PERIOD, "group_by": group_by}).json()["results"]
        for name, group_by in (("stations", "day"), ("revenue", "day"), ("utilization", "month"))
    }


def rollup_rows() -> list[tuple]:
    return sorted(
        DailyRollup.objects.values_list(
            "station_id", "day", "currency", "sessions", "energy_wh", "revenue_amount", "paid_amount",
            "occupied_seconds",
        )
    )  # fmt: skip


def test_the_same_envelope_delivered_twice_is_applied_once(admin_client, scenario, outbox):
    before = figures(admin_client)

    for envelope in outbox():
        assert deliver(envelope, "reporting") == DUPLICATE

    assert figures(admin_client) == before


def test_replaying_the_whole_stream_through_the_handlers_changes_nothing(admin_client, scenario, outbox):
    before, rows_before = figures(admin_client), rollup_rows()
    envelopes = outbox()

    for envelope in envelopes:  # straight into the handlers' service, no inbox to stop it
        services.event_apply(envelope=envelope)
    shuffled = envelopes[:]
    random.Random(7).shuffle(shuffled)
    for envelope in shuffled:
        services.event_apply(envelope=envelope)

    assert rollup_rows() == rows_before
    assert figures(admin_client) == before


def test_any_arrival_order_gives_the_same_rollups(scenario, outbox):
    expected = rollup_rows()
    envelopes = outbox()
    for seed in range(3):
        services.read_model_clear()
        shuffled = envelopes[:]
        random.Random(seed).shuffle(shuffled)
        for envelope in shuffled:
            services.event_apply(envelope=envelope)
        assert rollup_rows() == expected, f"order {seed}"


def test_rollups_equal_the_sum_of_what_the_facts_applied(scenario):
    summed: dict[tuple, list[int]] = {}
    for fact in SessionFact.objects.all():
        for day, currency, *values in fact.applied:
            row = summed.setdefault((str(fact.station_id), day, currency), [0] * 5)
            row[:] = [a + b for a, b in zip(row, values, strict=True)]
    rollups = {
        (str(station), day.isoformat(), currency): list(values)
        for station, day, currency, *values in rollup_rows()
        if any(values)
    }
    assert rollups == summed


def test_monthly_rollups_equal_the_daily_ones_summed(scenario):
    from apps.reporting.models import MonthlyRollup

    daily: dict[tuple, list[int]] = {}
    for station, day, currency, *values in rollup_rows():
        row = daily.setdefault((station, day.replace(day=1), currency), [0] * 5)
        row[:] = [a + b for a, b in zip(row, values, strict=True)]
    monthly = {
        (m.station_id, m.month, m.currency): [
            m.sessions,
            m.energy_wh,
            m.revenue_amount,
            m.paid_amount,
            m.occupied_seconds,
        ]
        for m in MonthlyRollup.objects.all()
    }
    assert monthly == {key: values for key, values in daily.items() if any(values)}
    assert len(monthly) == 3  # Berlin Jan and Feb (EUR), New York Jan (USD); N2 is still active


def test_rebuild_reproduces_the_same_figures(admin_client, scenario):
    before, rows_before = figures(admin_client), rollup_rows()
    with transaction.atomic():  # a stray row the rebuild must wipe
        DailyRollup.objects.create(station_id=scenario.berlin.station_id, day="2026-01-05", currency="EUR", sessions=9)

    out = io.StringIO()
    call_command("reporting_rebuild", "--no-progress", stdout=out, stderr=io.StringIO())

    assert "replayed 18 events" in out.getvalue()
    assert rollup_rows() == rows_before
    assert figures(admin_client) == before


def test_a_rebuild_after_the_outbox_was_purged_replays_the_archive_into_the_same_figures(
    admin_client, scenario, settings
):
    before, rows_before = figures(admin_client), rollup_rows()
    later = timezone.now() + timedelta(days=settings.EVENTS_OUTBOX_RETENTION_DAYS + 1)
    purged = purge_handled(now=later)  # the hourly purge, a week on
    assert purged.outbox >= 18
    assert not OutboxMessage.objects.filter(type__in=list(services.APPLIERS)).exists()
    assert ArchivedEvent.objects.filter(type__in=list(services.APPLIERS)).count() == 18

    out = io.StringIO()
    call_command("reporting_rebuild", "--no-progress", stdout=out, stderr=io.StringIO())

    assert "replayed 18 events" in out.getvalue()
    assert rollup_rows() == rows_before
    assert figures(admin_client) == before


def test_a_rebuild_of_a_time_range_replays_it_on_top_and_wipes_nothing(admin_client, scenario):
    before, rows_before = figures(admin_client), rollup_rows()

    out = io.StringIO()
    call_command("reporting_rebuild", "--since", "2999-01-01", "--no-progress", stdout=out, stderr=io.StringIO())
    call_command(
        "reporting_rebuild", "--until", "2999-01-01", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO()
    )

    assert "replayed 0 events" in out.getvalue()
    assert rollup_rows() == rows_before
    assert figures(admin_client) == before


def test_a_station_moving_time_zone_rebuckets_its_sessions(admin_client, scenario):
    moved = scenario.berlin.created()
    from evcharge.contracts.stations import StationUpdated

    with transaction.atomic():
        publish(StationUpdated(**{**moved.__dict__, "timezone": "UTC", "changed": ["timezone"]}))

    response = admin_client.get(
        "/api/v1/reports/utilization",
        {"from": "2026-01-31", "to": "2026-02-01", "station_id": scenario.berlin.station_id},
    )
    # in UTC, B1 has 5400 s on Jan 31 and 1800 s on Feb 1
    assert [r["occupied_seconds"] for r in response.json()["results"]] == [5400, 1800 + 3600]
