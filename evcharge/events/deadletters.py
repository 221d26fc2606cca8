"""Dead letters, wherever they are: the DeadLetter table (inline transport) and each consumer's
dead-letter queue on RabbitMQ (`<queue>.dead`). Listing never removes anything; replaying hands the
event to its consumer again with fresh attempts."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from evcharge.events.broker import ConfirmingPublisher, Outgoing
from evcharge.events.consumer import ATTEMPT_HEADER, CONSUMER_HEADER, ERROR_HEADER, FAILED_AT_HEADER
from evcharge.events.dispatch import deliver
from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import DeadLetter
from evcharge.events.topology import consumer_names, dead_letter_queue_name, queue_name


@dataclass(frozen=True)
class QueuedDeadLetter:
    consumer: str
    event_id: str
    type: str
    error: str
    attempts: int
    failed_at: str


def replay_database(letters) -> tuple[int, int]:
    """Delivers each (not yet replayed) DeadLetter row to its consumer again, in this process.
    Returns (replayed, failed again); a failure keeps the row with the new error."""
    replayed = failed = 0
    for letter in letters:
        if letter.replayed_at:
            continue
        try:
            deliver(EventEnvelope.from_dict(letter.envelope), letter.consumer)
        except Exception as exc:
            failed += 1
            DeadLetter.objects.filter(id=letter.id).update(
                error=f"{type(exc).__name__}: {exc}", attempts=letter.attempts + 1
            )
            continue
        replayed += 1
        DeadLetter.objects.filter(id=letter.id).update(replayed_at=timezone.now())
    return replayed, failed


def _publisher() -> ConfirmingPublisher:
    return ConfirmingPublisher(
        settings.EVENTS_BROKER_URL,
        connect_timeout=settings.EVENTS_CONNECT_TIMEOUT,
        confirm_timeout=settings.EVENTS_CONFIRM_TIMEOUT,
    )


def _describe(consumer: str, message: Any) -> QueuedDeadLetter:
    headers = message.properties.get("application_headers") or {}
    deaths = headers.get("x-death") or []
    error = headers.get(ERROR_HEADER) or (f"rejected by the broker ({deaths[0].get('reason')})" if deaths else "")
    try:
        body = EventEnvelope.from_json(message.body).to_dict()
    except Exception:
        body = {"id": message.properties.get("message_id", "?"), "type": message.properties.get("type", "?")}
    return QueuedDeadLetter(
        consumer=headers.get(CONSUMER_HEADER, consumer),
        event_id=str(body.get("id")),
        type=str(body.get("type")),
        error=str(error),
        attempts=int(headers.get(ATTEMPT_HEADER, 0)),
        failed_at=str(headers.get(FAILED_AT_HEADER, "")),
    )


def list_queued(consumers: list[str] | None = None, *, limit: int = 100) -> list[QueuedDeadLetter]:
    """Peeks at the dead-letter queues (the messages stay there)."""
    publisher = _publisher()
    found: list[QueuedDeadLetter] = []
    try:
        for consumer in consumer_names(consumers):
            channel = publisher.connection.channel()
            channel.queue_declare(dead_letter_queue_name(consumer), durable=True, auto_delete=False)
            while len(found) < limit:
                message = channel.basic_get(dead_letter_queue_name(consumer), no_ack=False)
                if message is None:
                    break
                found.append(_describe(consumer, message))
            channel.close()  # unacked messages go back to the queue
    finally:
        publisher.close()
    return found


def replay_queued(consumers: list[str] | None = None, *, event_ids: set[str] | None = None) -> int:
    """Moves dead letters (all, or those with the given event ids) back to their consumer's queue with
    a fresh attempt count; each is removed from the dead-letter queue only once the broker confirmed it."""
    publisher = _publisher()
    moved = 0
    try:
        for consumer in consumer_names(consumers):
            channel = publisher.connection.channel()
            channel.queue_declare(dead_letter_queue_name(consumer), durable=True, auto_delete=False)
            while True:
                message = channel.basic_get(dead_letter_queue_name(consumer), no_ack=False)
                if message is None:
                    break
                event_id = message.properties.get("message_id")
                if event_ids is not None and event_id not in event_ids:
                    continue
                headers = {
                    key: value
                    for key, value in (message.properties.get("application_headers") or {}).items()
                    if not key.startswith(("x-evcharge-", "x-death", "x-first-death", "x-last-death"))
                }
                properties = {
                    key: value
                    for key, value in message.properties.items()
                    if key in ("content_type", "content_encoding", "message_id", "type", "app_id", "timestamp")
                }
                properties.update(delivery_mode=2, application_headers=headers)
                result = publisher.publish_one(Outgoing(event_id, "", queue_name(consumer), message.body, properties))
                if result.failed or result.returned:
                    raise RuntimeError(f"could not move {event_id} back to {queue_name(consumer)}")
                channel.basic_ack(message.delivery_tag)
                moved += 1
            channel.close()
    finally:
        publisher.close()
    return moved
