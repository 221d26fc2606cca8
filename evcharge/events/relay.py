"""The relay: claims unsent outbox rows, hands them to the transport, marks them sent.

Woken on commit of every transaction that published (and swept periodically by beat).
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import OutboxMessage
from evcharge.events.transports import get_transport

logger = logging.getLogger("evcharge.events.relay")
_local = threading.local()


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


def relay_batch(*, limit: int | None = None) -> int:
    """Sends one batch of due rows. Returns how many were sent."""
    limit = limit or settings.EVENTS_RELAY_BATCH_SIZE
    transport = get_transport()
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, dead_at__isnull=True, available_at__lte=now)
            .order_by("created_at")[:limit]
        )
        if not rows:
            return 0
        envelopes = [EventEnvelope.from_dict(row.envelope) for row in rows]
        failures = transport.send(envelopes)
        sent_ids = [row.id for row in rows if row.id not in failures]
        if sent_ids:
            OutboxMessage.objects.filter(id__in=sent_ids).update(sent_at=timezone.now())
        for row in rows:
            if row.id in failures:
                _record_failure(row, failures[row.id])
    return len(sent_ids)


def _record_failure(row: OutboxMessage, error: str) -> None:
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= settings.EVENTS_RELAY_MAX_ATTEMPTS:
        row.dead_at = timezone.now()
        logger.error(
            "outbox row dead", extra={"event_id": str(row.id), "event_type": row.type, "error": error}
        )
    else:
        row.available_at = timezone.now() + backoff(row.attempts)
    row.save(update_fields=["attempts", "last_error", "dead_at", "available_at"])


def relay_pending(*, max_batches: int = 1000) -> int:
    """Drains due rows, batch after batch. Re-entrant calls (a handler publishing) just ask for another pass."""
    if getattr(_local, "running", False):
        _local.again = True
        return 0
    _local.running = True
    total = 0
    try:
        for _ in range(max_batches):
            _local.again = False
            sent = relay_batch()
            total += sent
            if not sent and not _local.again:
                break
    finally:
        _local.running = False
    return total
