from typing import Any

from django.db import transaction

from evcharge.api.logging import request_id_var
from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import OutboxMessage


class PublishOutsideTransaction(RuntimeError):
    """publish() was called in autocommit mode: the event could outlive a rolled-back change."""


def current_traceparent() -> str | None:
    try:
        from opentelemetry import propagate
    except ImportError:  # pragma: no cover
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def publish(event: Any, *, subject: str | None = None, using: str = "default") -> EventEnvelope[Any]:
    """Appends the event to the outbox in the caller's transaction; the relay sends it after commit."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        raise PublishOutsideTransaction(
            f"publish({type(event).__name__}) must run inside transaction.atomic(), "
            "together with the state change it announces"
        )
    envelope = EventEnvelope.wrap(
        event, subject=subject, traceparent=current_traceparent(), correlationid=request_id_var.get()
    )
    OutboxMessage.objects.using(using).create(
        id=envelope.id,
        type=envelope.type,
        envelope=envelope.to_dict(),
        created_at=envelope.time,
        available_at=envelope.time,
    )
    from evcharge.events.relay import wake_relay_on_commit

    wake_relay_on_commit(using=using)
    return envelope
