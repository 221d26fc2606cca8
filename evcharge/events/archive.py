"""The event archive: sent events move here from the outbox (instead of being deleted) and stay, so a read model
can always be rebuilt from the whole history. On PostgreSQL the table is partitioned by month of `created_at`
(a partition per month, made before rows of that month arrive); retention drops whole months.

    history(types)   every event of these types, archived or still in the outbox, oldest first: what a rebuild
                     replays
"""

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from evcharge.events.models import ArchivedEvent, OutboxMessage

TABLE = "events_archivedevent"


def _month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def partition_name(month: datetime) -> str:
    return f"{TABLE}_{month:%Y_%m}"


def ensure_partitions(months: set[datetime]) -> None:
    """Creates the monthly partitions these month starts need (PostgreSQL), moving any rows of those months that
    the default partition caught meanwhile."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for month in sorted(months):
            name, end = partition_name(month), _next_month(month)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                continue
            cursor.execute("CREATE TEMP TABLE archive_stray (LIKE events_archivedevent) ON COMMIT DROP")
            cursor.execute(
                "WITH moved AS (DELETE FROM events_archivedevent_default WHERE created_at >= %s AND created_at < %s "
                "RETURNING *) INSERT INTO archive_stray SELECT * FROM moved",
                [month, end],
            )
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF events_archivedevent FOR VALUES FROM (%s) TO (%s)", [month, end]
            )
            cursor.execute("INSERT INTO events_archivedevent SELECT * FROM archive_stray")
            cursor.execute("DROP TABLE archive_stray")


@transaction.atomic
def archive_sent(*, before: datetime) -> int:
    """Moves outbox rows sent before `before` into the archive, in one transaction. Returns how many moved."""
    rows = OutboxMessage.objects.filter(sent_at__lt=before)
    months = set(rows.datetimes("created_at", "month", tzinfo=UTC))
    if not months:
        return 0
    ensure_partitions(months)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH moved AS (DELETE FROM events_outboxmessage WHERE sent_at < %s "
                "RETURNING id, type, envelope, created_at, sent_at) "
                "INSERT INTO events_archivedevent (id, type, envelope, created_at, sent_at, archived_at) "
                "SELECT id, type, envelope, created_at, sent_at, now() FROM moved ON CONFLICT DO NOTHING",
                [before],
            )
            return cursor.rowcount
    moved = list(rows.values("id", "type", "envelope", "created_at", "sent_at"))
    ArchivedEvent.objects.bulk_create([ArchivedEvent(**row) for row in moved], ignore_conflicts=True)
    OutboxMessage.objects.filter(id__in=[row["id"] for row in moved]).delete()
    return len(moved)


def drop_expired(*, now: datetime) -> int:
    """Drops archived months older than EVENTS_ARCHIVE_RETENTION_MONTHS (0, the default: keep everything)."""
    months = settings.EVENTS_ARCHIVE_RETENTION_MONTHS
    if months <= 0:
        return 0
    cutoff = _month_start(now)
    for _ in range(months):
        cutoff = _month_start(cutoff - timedelta(days=1))
    if connection.vendor != "postgresql":
        deleted, _ = ArchivedEvent.objects.filter(created_at__lt=cutoff).delete()
        return deleted
    dropped = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits JOIN pg_class parent ON parent.oid = inhparent "
            "JOIN pg_class child ON child.oid = inhrelid WHERE parent.relname = %s AND child.relname ~ %s",
            [TABLE, r"_\d{4}_\d{2}$"],
        )
        for (name,) in cursor.fetchall():
            month = datetime.strptime(name[-7:], "%Y_%m").replace(tzinfo=UTC)
            if month < cutoff:
                cursor.execute(f"DROP TABLE {name}")
                dropped += 1
        cursor.execute("DELETE FROM events_archivedevent_default WHERE created_at < %s", [cutoff])
    return dropped


def _window(queryset, since: datetime | None, until: datetime | None):
    if since:
        queryset = queryset.filter(created_at__gte=since)
    if until:
        queryset = queryset.filter(created_at__lt=until)
    return queryset.order_by("created_at", "id")


def history(
    types: list[str], *, since: datetime | None = None, until: datetime | None = None, chunk_size: int = 2000
) -> Iterator[dict]:
    """Every event of these types published in [since, until), oldest first: the archive merged with what the
    outbox still holds (a row is in one or the other: the move is one transaction)."""
    streams = [
        _window(model.objects.filter(type__in=types), since, until)
        .values_list("created_at", "id", "envelope")
        .iterator(chunk_size=chunk_size)
        for model in (ArchivedEvent, OutboxMessage)
    ]
    for _, _, envelope in heapq.merge(*streams, key=lambda row: (row[0], row[1])):
        yield envelope


def history_count(types: list[str], *, since: datetime | None = None, until: datetime | None = None) -> int:
    return sum(
        _window(model.objects.filter(type__in=types), since, until).count() for model in (ArchivedEvent, OutboxMessage)
    )
