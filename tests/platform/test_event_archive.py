"""The event archive: sent events move there instead of being deleted, one partition a month on PostgreSQL,
whole months dropped only when a retention is set."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from evcharge.contracts.identity import UserCreated
from evcharge.events import publish
from evcharge.events.archive import history
from evcharge.events.models import ArchivedEvent, OutboxMessage
from evcharge.events.retention import purge_handled


def published_at(moment: datetime, *, sent: bool = True):
    with transaction.atomic():
        envelope = publish(UserCreated(user_id=uuid.uuid4(), role="driver"))
    OutboxMessage.objects.filter(id=envelope.id).update(created_at=moment, sent_at=moment if sent else None)
    return envelope


def partitions() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits JOIN pg_class parent ON parent.oid = inhparent "
            "JOIN pg_class child ON child.oid = inhrelid WHERE parent.relname = 'events_archivedevent' "
            "ORDER BY child.relname"
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.postgres
def test_sent_events_move_into_monthly_partitions_and_stay(settings):
    october = published_at(datetime(2026, 10, 30, 23, 59, tzinfo=UTC))
    november = published_at(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    unsent = published_at(datetime(2026, 10, 2, tzinfo=UTC), sent=False)
    recent = published_at(datetime(2026, 12, 3, tzinfo=UTC))

    purged = purge_handled(now=datetime(2026, 12, 4, tzinfo=UTC))

    assert purged.outbox == 2
    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {unsent.id, recent.id}
    assert set(ArchivedEvent.objects.values_list("id", flat=True)) == {october.id, november.id}
    assert {"events_archivedevent_2026_10", "events_archivedevent_2026_11"} <= set(partitions())
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM events_archivedevent_2026_10")
        assert [row[0] for row in cursor.fetchall()] == [october.id]
    replayed = [body["id"] for body in history(["user.created.v1"])]
    assert replayed == [str(e.id) for e in (unsent, october, november, recent)]  # oldest first, both sources

    purge_handled(now=datetime(2027, 6, 1, tzinfo=UTC))  # default retention: keep everything
    assert ArchivedEvent.objects.filter(id__in=[october.id, november.id]).count() == 2


@pytest.mark.postgres
def test_a_retention_drops_whole_months_past_it(settings):
    settings.EVENTS_ARCHIVE_RETENTION_MONTHS = 2
    old = published_at(datetime(2026, 8, 15, tzinfo=UTC))
    kept = published_at(datetime(2026, 10, 15, tzinfo=UTC))
    purge_handled(now=datetime(2026, 10, 25, tzinfo=UTC))
    assert ArchivedEvent.objects.count() == 2

    purge_handled(now=datetime(2026, 12, 4, tzinfo=UTC))  # keeps October and November

    assert list(ArchivedEvent.objects.values_list("id", flat=True)) == [kept.id]
    assert "events_archivedevent_2026_08" not in partitions()
    assert old.id not in {uuid.UUID(body["id"]) for body in history(["user.created.v1"])}
