"""Inbox-guarded delivery: the inbox row and the handler's effects commit together, or not at all."""

import logging
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from evcharge.events import metrics
from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import DeadLetter, InboxMessage
from evcharge.events.registry import handlers_for
from evcharge.observability import consume_span

logger = logging.getLogger("evcharge.events")

APPLIED, DUPLICATE = "applied", "duplicate"


def deliver(envelope: EventEnvelope, consumer: str, *, savepoint: bool = True) -> str:
    """Runs the consumer's handlers for this event once. Raises what a handler raised (nothing committed).
    Inside a caller's transaction `savepoint=False` saves the savepoint's round trips; a failure then spoils the
    caller's whole transaction (the batch consumer falls back to one transaction per message)."""
    handlers = handlers_for(envelope.type, consumer)
    try:
        # the trace continues from the publisher
        with consume_span(envelope, consumer), transaction.atomic(savepoint=savepoint):
            InboxMessage.objects.create(consumer=consumer, event_id=envelope.id, type=envelope.type)
            for handler in handlers:
                handler(envelope)
    except IntegrityError:
        if InboxMessage.objects.filter(consumer=consumer, event_id=envelope.id).exists():
            logger.info("duplicate event skipped", extra={"consumer": consumer, "event_id": str(envelope.id)})
            metrics.duplicates.labels(consumer).inc()
            return DUPLICATE
        raise
    metrics.consumed.labels(consumer).inc()
    return APPLIED


def apply_batch(items: list[tuple[EventEnvelope, str]]) -> list[int]:
    """Applies a batch of (event, consumer) in the caller's transaction: the inbox rows of all in one statement,
    then the handlers of each event no consumer had applied before (the first copy of each). Returns the
    positions skipped as duplicates. Raises what a handler raised."""
    fresh = _record_in_inbox(items)
    duplicates = []
    for position, (envelope, consumer) in enumerate(items):
        key = (consumer, envelope.id)
        if key not in fresh:
            duplicates.append(position)
            continue
        fresh.discard(key)  # a second copy within the batch is a duplicate
        with consume_span(envelope, consumer):
            for handler in handlers_for(envelope.type, consumer):
                handler(envelope)
    return duplicates


def _record_in_inbox(items: list[tuple[EventEnvelope, str]]) -> set[tuple[str, UUID]]:
    """Inserts the inbox rows the inbox does not hold yet; returns their (consumer, event id). On PostgreSQL one
    INSERT … ON CONFLICT DO NOTHING RETURNING: a copy being applied by another consumer right now waits for that
    transaction and then counts as a duplicate."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO events_inboxmessage (consumer, event_id, type, received_at) "
                "SELECT * FROM unnest(%s::varchar[], %s::uuid[], %s::varchar[], %s::timestamptz[]) "
                "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING consumer, event_id",
                [
                    [consumer for _, consumer in items],
                    [envelope.id for envelope, _ in items],
                    [envelope.type for envelope, _ in items],
                    [now] * len(items),
                ],
            )
            return {(consumer, event_id) for consumer, event_id in cursor.fetchall()}
    wanted = {(consumer, envelope.id): envelope.type for envelope, consumer in items}
    held = set(
        InboxMessage.objects.filter(
            consumer__in={consumer for consumer, _ in wanted}, event_id__in={event_id for _, event_id in wanted}
        ).values_list("consumer", "event_id")
    )
    fresh = wanted.keys() - held
    InboxMessage.objects.bulk_create(
        [
            InboxMessage(consumer=consumer, event_id=event_id, type=wanted[consumer, event_id], received_at=now)
            for consumer, event_id in fresh
        ]
    )
    return set(fresh)


def deliver_with_retries(envelope: EventEnvelope, consumer: str) -> str:
    """The inline transport's consumer: bounded retries, then a dead letter (replayable)."""
    max_attempts = settings.EVENTS_HANDLER_MAX_ATTEMPTS
    for attempt in range(1, max_attempts + 1):
        try:
            return deliver(envelope, consumer)
        except Exception as exc:
            metrics.handler_failed.labels(consumer).inc()
            logger.warning(
                "handler failed",
                exc_info=True,
                extra={"consumer": consumer, "event_type": envelope.type, "attempt": attempt},
            )
            if attempt == max_attempts:
                DeadLetter.objects.create(
                    consumer=consumer,
                    event_id=envelope.id,
                    type=envelope.type,
                    envelope=envelope.to_dict(),
                    error=f"{type(exc).__name__}: {exc}",
                    attempts=attempt,
                )
                metrics.dead_lettered.labels(consumer).inc()
                return "dead"
    raise AssertionError("unreachable")
