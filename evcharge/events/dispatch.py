"""Inbox-guarded delivery: the inbox row and the handler's effects commit together, or not at all."""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

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


def apply_fresh(items: list[tuple[EventEnvelope, str]]) -> None:
    """Applies events no consumer has applied yet (the caller checked the inbox) in the caller's transaction:
    their inbox rows in one INSERT, then each one's handlers. Raises what a handler raised, or IntegrityError
    when one was applied meanwhile (a redelivery racing its first copy): the caller then applies them one by
    one with `deliver`, which tells a duplicate from a failure."""
    InboxMessage.objects.bulk_create(
        [InboxMessage(consumer=consumer, event_id=envelope.id, type=envelope.type) for envelope, consumer in items]
    )
    for envelope, consumer in items:
        with consume_span(envelope, consumer):
            for handler in handlers_for(envelope.type, consumer):
                handler(envelope)


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
