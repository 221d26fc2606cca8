"""The relay: takes due outbox rows, hands them to the transport, marks them sent.

Woken on commit of every transaction that published (and swept periodically by beat).

To a broker (RabbitMQ, on PostgreSQL), one transaction per batch:
1. take: `UPDATE … SET sent_at … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` marks due rows sent,
   and the open transaction keeps them locked, so relays running at once take disjoint rows and nobody sees them
   sent yet;
2. send: the batch goes out with publisher confirms while that transaction waits (PostgreSQL ends one a hung relay
   leaves open after EVENTS_RELAY_LEASE_SECONDS: `idle_in_transaction_session_timeout`);
3. settle: rows the broker refused get an attempt, an exponential backoff and, after EVENTS_RELAY_MAX_ATTEMPTS,
   `dead_at`, instead of `sent_at`; then COMMIT. One write per row.
A relay that dies before the commit rolls back: its rows are due again at once and published a second time;
consumers absorb the duplicate through their inbox (at least once). On a backlog the relay publishes one batch while
two lanes, each a thread with its own connection and open transaction, take the next and commit the previous one;
batches reach the broker in outbox order. The lanes' statements are not traced: a thread starts without its
caller's span, so each would be a trace of its own.

In-process (the inline transport: handlers run during the send, in transactions of their own) the relay leases the
rows instead (`locked_until = now + EVENTS_RELAY_LEASE_SECONDS`) in one short transaction, sends, and marks them
sent in another; a relay that dies in between leaves them leased until the lease ends.
"""

import logging
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from operator import attrgetter
from uuid import UUID

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from evcharge.events import metrics
from evcharge.events.models import OutboxMessage
from evcharge.events.transports import RelayedEvent, Transport, get_transport
from evcharge.observability import untraced

logger = logging.getLogger("evcharge.events.relay")
_local = threading.local()

_TAKE_SQL = """
WITH taken AS (
    UPDATE events_outboxmessage SET sent_at = %(now)s, locked_until = NULL
    WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM events_outboxmessage
        WHERE sent_at IS NULL AND dead_at IS NULL AND available_at <= %(now)s
          AND (locked_until IS NULL OR locked_until < %(now)s)
        ORDER BY created_at
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ))
    RETURNING id, type, envelope, created_at
)
SELECT id, type, envelope FROM taken ORDER BY created_at
"""
# `ctid`: the rows this statement has just locked, found again without a lookup in the primary key per row (a quarter
# of the statement's time for 500 rows). `envelope`, not `envelope::text`: Django has psycopg hand jsonb over as its
# text, unparsed, and the cast would make PostgreSQL render each envelope twice.

# A relay's transaction may skip waiting for the WAL flush: if PostgreSQL crashes and loses one, the rows are merely
# published again, which at-least-once delivery and the consumers' inbox absorb. For the transaction (`local`), or
# once for a lane's own connection.
_TAKE_SETTINGS_SQL = (
    "SELECT set_config('synchronous_commit', 'off', %(local)s),"
    " set_config('idle_in_transaction_session_timeout', %(idle)s, %(local)s)"
)

_LEASE_SQL = """
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


def relay_pending(*, max_batches: int = 1000, transport: Transport | None = None) -> int:
    """Drains due rows, batch after batch; returns how many were handed to the transport. Re-entrant calls (an
    in-process handler publishing) just ask for another pass."""
    if getattr(_local, "running", False):
        _local.again = True
        return 0
    _local.running = True
    transport = transport or get_transport()
    try:
        if getattr(transport, "remote", False) and connections["default"].vendor == "postgresql":
            return _relay_in_transactions(transport, max_batches)
        return _relay_leased(transport, max_batches)
    finally:
        _local.running = False


def _after_publish(events: list[RelayedEvent]) -> None:
    """Nothing; tests replace it to simulate a relay crashing between the broker's confirms and the commit (or, in
    process, the mark-sent)."""


def _send(transport: Transport, events: list[RelayedEvent]) -> dict[UUID, str]:
    try:
        return transport.send(events)
    except Exception as exc:
        logger.exception("transport failed")
        return {event.id: f"{type(exc).__name__}: {exc}" for event in events}


def _count_published(events: list[RelayedEvent], failures: dict[UUID, str]) -> int:
    published = [event for event in events if event.id not in failures] if failures else events
    for event_type, count in Counter(map(attrgetter("type"), published)).items():
        metrics.published.labels(event_type).inc(count)
    return len(published)


# To a broker: a transaction per batch --------------------------------------------------------------------------


def _take_settings(*, local: bool) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            _TAKE_SETTINGS_SQL, {"idle": f"{settings.EVENTS_RELAY_LEASE_SECONDS * 1000:.0f}ms", "local": local}
        )


def _take(limit: int, *, configured: bool = False) -> list[RelayedEvent]:
    if not configured:
        _take_settings(local=True)
    with connections["default"].cursor() as cursor:
        cursor.execute(_TAKE_SQL, {"now": timezone.now(), "limit": limit})
        return [RelayedEvent(row[0], row[1], row[2].encode()) for row in cursor.fetchall()]


def _settle(events: list[RelayedEvent], failures: dict[UUID, str]) -> None:
    """Puts back what the broker refused; the caller commits."""
    if failures:
        _record_failures(failures, {event.id: event.type for event in events})


def _relay_in_transactions(transport: Transport, max_batches: int) -> int:
    limit = settings.EVENTS_RELAY_BATCH_SIZE
    lanes: tuple[_Lane, _Lane] | None = None
    try:
        with transaction.atomic():  # the usual wake-up: a few rows, on this thread's connection
            events = _take(limit)
            if not events:
                return 0
            if len(events) == limit and max_batches > 1:  # a backlog: the next batch is taken during this publish
                lanes = (_Lane(), _Lane())
                taking = lanes[0].take(limit)
            failures = _send(transport, events)
            _after_publish(events)
            _settle(events, failures)
        _count_published(events, failures)
        if lanes is None or len(failures) == len(events):
            return len(events)
        return len(events) + _relay_backlog(transport, lanes, taking, limit, max_batches - 1)
    finally:
        for lane in lanes or ():
            lane.close()


class _Lane:
    """A thread with a connection of its own, holding one batch's transaction open from its take to its commit."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="relay-lane")
        self._configured = False  # the take's settings, once for the lane's connection (closed with the lane)

    def take(self, limit: int) -> Future:
        return self._thread.submit(untraced, self._take, limit)

    def commit(self, events: list[RelayedEvent], failures: dict[UUID, str]) -> Future:
        return self._thread.submit(untraced, self._commit, events, failures)

    def close(self) -> None:
        """Rolls back a batch taken and never committed (it is due again at once)."""
        try:
            self._thread.submit(untraced, self._close).result()
        finally:
            self._thread.shutdown()

    def _take(self, limit: int) -> list[RelayedEvent]:
        if not self._configured:
            _take_settings(local=False)  # in autocommit: a rolled-back first take keeps them
            self._configured = True
        transaction.set_autocommit(False)
        try:
            events = _take(limit, configured=True)
        except BaseException:
            _Lane._rollback()
            raise
        if not events:
            _Lane._rollback()
        return events

    @staticmethod
    def _commit(events: list[RelayedEvent], failures: dict[UUID, str]) -> None:
        try:
            _settle(events, failures)
            transaction.commit()
        except BaseException:
            _Lane._rollback()
            raise
        transaction.set_autocommit(True)
        _count_published(events, failures)

    @staticmethod
    def _rollback() -> None:
        transaction.rollback()
        transaction.set_autocommit(True)

    @staticmethod
    def _close() -> None:
        try:
            if not transaction.get_autocommit():
                _Lane._rollback()
        finally:
            connections.close_all()


def _relay_backlog(
    transport: Transport, lanes: tuple[_Lane, _Lane], taking: Future, limit: int, max_batches: int
) -> int:
    """Full batches: this thread publishes batch n while one lane takes batch n+1 and the other commits batch n-1,
    so the database's work hides behind the broker's. Batches are taken, and published, one after the other."""
    relayed, committing = 0, [None, None]
    for number in range(max_batches):
        events = taking.result()
        if not events:
            break
        lane, other = number % 2, (number + 1) % 2
        # Queued behind the other lane's commit of the previous batch: a lane does one thing at a time.
        taking = lanes[other].take(limit) if number + 1 < max_batches else _nothing()
        failures = _send(transport, events)
        _after_publish(events)
        if committing[other] is not None:
            committing[other].result()  # long done; raises if that commit failed
        committing[lane] = lanes[lane].commit(events, failures)
        relayed += len(events)
        if len(failures) == len(events):
            break  # the broker is away: the next batch, if taken, is rolled back when the lanes close
    for commit in committing:
        if commit is not None:
            commit.result()
    return relayed


def _nothing() -> Future:
    future: Future = Future()
    future.set_result([])
    return future


# In-process: leased rows ---------------------------------------------------------------------------------------


def claim(*, limit: int) -> list[RelayedEvent]:
    """Leases due rows to this relay (see the module's docstring)."""
    now = timezone.now()
    lease_end = now + timedelta(seconds=settings.EVENTS_RELAY_LEASE_SECONDS)
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_NO_FSYNC_SQL)
            cursor.execute(_LEASE_SQL, {"lease_end": lease_end, "now": now, "limit": limit})
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


def _relay_leased(transport: Transport, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        _local.again = False
        events = claim(limit=settings.EVENTS_RELAY_BATCH_SIZE)
        total += len(events)
        if events:
            failures = _send(transport, events)
            _after_publish(events)
            if len(failures) == len(events):
                _record_failures(failures, {event.id: event.type for event in events})
                break  # the transport is away: leave the rest for the next wake-up or sweep
            mark_sent([event.id for event in events if event.id not in failures])
            _count_published(events, failures)
            if failures:
                _record_failures(failures, {event.id: event.type for event in events})
        elif not _local.again:
            break
    return total


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
            changes = {"attempts": attempts, "last_error": error, "sent_at": None, "locked_until": None}
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


def replay_outbox(*, ids: list[UUID]) -> int:
    """Makes dead (or sent) rows due again, with fresh attempts; the relay sends them on its next pass."""
    count = OutboxMessage.objects.filter(id__in=ids).update(
        sent_at=None, dead_at=None, attempts=0, last_error="", locked_until=None, available_at=timezone.now()
    )
    if count:
        transaction.on_commit(_wake, robust=True)
    return count
