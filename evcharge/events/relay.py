"""The relay: claims due outbox rows, hands them to the transport, marks them sent.

Woken on commit of every transaction that published (and swept periodically by beat).

1. claim: one short transaction selects due rows `FOR UPDATE SKIP LOCKED` and leases them
   (`locked_until = now + EVENTS_RELAY_LEASE_SECONDS`), so relays running at once take disjoint rows;
2. send: the batch goes out with no database transaction open (publisher confirms for the batch);
3. mark: confirmed rows get `sent_at`; failed rows get an attempt, an exponential backoff and,
   after EVENTS_RELAY_MAX_ATTEMPTS, `dead_at`.

A relay that dies between 2 and 3 leaves leased rows: they are taken again once the lease ends and
published a second time; consumers absorb the duplicate through their inbox (at least once).
"""

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from evcharge.events import metrics
from evcharge.events.models import OutboxMessage
from evcharge.events.transports import RelayedEvent, Transport, get_transport

logger = logging.getLogger("evcharge.events.relay")
_local = threading.local()

_CLAIM_SQL = """
UPDATE events_outboxmessage SET locked_until = %(lease_end)s
WHERE id IN (
    SELECT id FROM events_outboxmessage
    WHERE sent_at IS NULL AND dead_at IS NULL AND available_at <= %(now)s
      AND (locked_until IS NULL OR locked_until < %(now)s)
    ORDER BY created_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id, type, envelope, created_at
"""
# `envelope`, not `envelope::text`: Django has psycopg hand jsonb over as its text, unparsed, and the cast would make
# PostgreSQL render each envelope twice (a third of the claim's cost for a batch of 500).


# Claims and marks may skip waiting for the WAL flush: if PostgreSQL crashes and loses one, the row is
# merely published again, which at-least-once delivery and the consumers' inbox absorb.
_NO_FSYNC_SQL = "SET LOCAL synchronous_commit = off"
_MARK_SENT_SQL = "UPDATE events_outboxmessage SET sent_at = %s, locked_until = NULL WHERE id = ANY(%s)"


def _wake() -> None:
    get_transport().wake_relay()


def wake_relay_on_commit(*, using: str = "default") -> None:
    """One wake-up per transaction, however many events it published."""
    connection = connections[using]
    active = set(connection.savepoint_ids)
    if any(func is _wake and sids <= active for sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_wake, using=using, robust=True)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 600))


def claim(*, limit: int) -> list[RelayedEvent]:
    now = timezone.now()
    lease_end = now + timedelta(seconds=settings.EVENTS_RELAY_LEASE_SECONDS)
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_NO_FSYNC_SQL)
            cursor.execute(_CLAIM_SQL, {"lease_end": lease_end, "now": now, "limit": limit})
            rows = sorted(cursor.fetchall(), key=lambda row: row[3])
        return [RelayedEvent(id=row[0], type=row[1], body=row[2].encode()) for row in rows]
    # SQLite (embedded mode): a write transaction is exclusive already, SKIP LOCKED is not needed.
    import json

    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.filter(sent_at__isnull=True, dead_at__isnull=True, available_at__lte=now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("created_at")
            .values_list("id", "type", "envelope")[:limit]
        )
        OutboxMessage.objects.filter(id__in=[row[0] for row in rows]).update(locked_until=lease_end)
    return [
        RelayedEvent(id=row[0], type=row[1], body=json.dumps(row[2], separators=(",", ":")).encode()) for row in rows
    ]


def _after_publish(events: list[RelayedEvent]) -> None:
    """Nothing; tests replace it to simulate a relay crashing between publish and mark-sent."""


def relay_batch(*, limit: int | None = None, transport: Transport | None = None) -> int:
    """Sends one batch of due rows. Returns how many were claimed."""
    return _relay_batch(limit=limit, transport=transport)[0]


def _relay_batch(*, limit: int | None, transport: Transport | None) -> tuple[int, int]:
    """Returns (claimed, sent)."""
    events = claim(limit=limit or settings.EVENTS_RELAY_BATCH_SIZE)
    if not events:
        return 0, 0
    return len(events), _finish(events, _send(transport or get_transport(), events))


def _finish(events: list[RelayedEvent], failures: dict[UUID, str]) -> int:
    _after_publish(events)
    return _mark(events, failures)


def _mark(events: list[RelayedEvent], failures: dict[UUID, str]) -> int:
    sent = [event for event in events if event.id not in failures]
    if sent:
        mark_sent([event.id for event in sent])
        for event_type, count in Counter(event.type for event in sent).items():
            metrics.published.labels(event_type).inc(count)
    if failures:
        _record_failures(failures, {event.id: event.type for event in events})
    return len(sent)


def _relay_backlog(transport: Transport, current: list[RelayedEvent], max_batches: int) -> int:
    """A backlog (full batches): a helper thread, on its own database connection, claims batch N+1
    and marks batch N-1 while this thread publishes batch N and awaits its confirms, so the database
    round trips hide behind the broker's work. Still one batch unconfirmed at a time."""
    limit = settings.EVENTS_RELAY_BATCH_SIZE
    total, batches, previous = 0, 1, None
    with ThreadPoolExecutor(1, thread_name_prefix="relay-db") as helper:
        try:
            while current:
                next_claim = helper.submit(claim, limit=limit) if batches < max_batches else None
                marking = helper.submit(_mark, *previous) if previous else None
                failures = _send(transport, current)
                if marking:
                    marking.result()
                    previous = None
                _after_publish(current)
                total += len(current)
                previous = (current, failures)
                upcoming = next_claim.result() if next_claim else []
                if len(failures) == len(current):  # the broker is away: hand the next batch back
                    if upcoming:
                        helper.submit(_release, [event.id for event in upcoming]).result()
                    break
                current, batches = upcoming, batches + 1
            if previous:
                helper.submit(_mark, *previous).result()
        finally:
            helper.submit(connections.close_all).result()
    return total


def _send(transport: Transport, events: list[RelayedEvent]) -> dict[UUID, str]:
    try:
        return transport.send(events)
    except Exception as exc:
        logger.exception("transport failed")
        return {event.id: f"{type(exc).__name__}: {exc}" for event in events}


def _release(ids: list[UUID]) -> None:
    OutboxMessage.objects.filter(id__in=ids).update(locked_until=None)


def mark_sent(ids: list[UUID]) -> None:
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_NO_FSYNC_SQL)
            cursor.execute(_MARK_SENT_SQL, [timezone.now(), ids])
    else:
        OutboxMessage.objects.filter(id__in=ids).update(sent_at=timezone.now(), locked_until=None)


def _record_failures(failures: dict[UUID, str], types: dict[UUID, str]) -> None:
    """One attempt more for each failed row, with its backoff, or dead after the last attempt."""
    for event_id in failures:
        metrics.publish_failed.labels(types[event_id]).inc()
    now = timezone.now()
    with transaction.atomic():
        rows = OutboxMessage.objects.select_for_update().filter(id__in=list(failures)).values_list("id", "attempts")
        groups: dict[tuple[int, str], list[UUID]] = {}
        for event_id, attempts in rows:
            groups.setdefault((attempts + 1, failures[event_id][:2000]), []).append(event_id)
        for (attempts, error), ids in groups.items():
            changes = {"attempts": attempts, "last_error": error, "locked_until": None}
            if attempts >= settings.EVENTS_RELAY_MAX_ATTEMPTS:
                changes["dead_at"] = now
                for event_id in ids:
                    metrics.outbox_dead.labels(types[event_id]).inc()
                    logger.error(
                        "outbox row dead",
                        extra={"event_id": str(event_id), "event_type": types[event_id], "error": error},
                    )
            else:
                changes["available_at"] = now + backoff(attempts)
            OutboxMessage.objects.filter(id__in=ids).update(**changes)


def relay_pending(*, max_batches: int = 1000, transport: Transport | None = None) -> int:
    """Drains due rows, batch after batch. Re-entrant calls (a handler publishing) just ask for another pass."""
    if getattr(_local, "running", False):
        _local.again = True
        return 0
    _local.running = True
    total = 0
    transport = transport or get_transport()
    try:
        if getattr(transport, "pipelined", False):
            first = claim(limit=settings.EVENTS_RELAY_BATCH_SIZE)
            if len(first) == settings.EVENTS_RELAY_BATCH_SIZE:
                return _relay_backlog(transport, first, max_batches)
            if first:  # a few rows, the usual wake-up: no helper thread
                total += len(first)
                if not _finish(first, _send(transport, first)):
                    return total  # the broker is away
        for _ in range(max_batches):
            _local.again = False
            claimed, sent = _relay_batch(limit=None, transport=transport)
            total += claimed
            if claimed and not sent:
                break  # the broker is away: leave the rest for the next wake-up or sweep
            if not claimed and not _local.again:
                break
    finally:
        _local.running = False
    return total


def replay_outbox(*, ids: list[UUID]) -> int:
    """Makes dead (or sent) rows due again, with fresh attempts; the relay sends them on its next pass."""
    count = OutboxMessage.objects.filter(id__in=ids).update(
        sent_at=None, dead_at=None, attempts=0, last_error="", locked_until=None, available_at=timezone.now()
    )
    if count:
        transaction.on_commit(_wake, robust=True)
    return count
