"""Every moment of a history, told in order and in reverse.

Delivering a whole history in reverse order is an easy case when its newest event carries the whole state: the
first one delivered wins and every older one is ignored. A moment of the history (the events up to one of them)
often ends on a partial event instead (a connector's status, a charger's health), which in reverse order then
arrives first, before the aggregate's own full state: the read model must keep it, and the older full state must
not overwrite it.

`moments_that_differ(consumer, events, wipe=..., snapshot=...)` builds the consumer's read model from empty for
each moment, in order and in reverse (straight through its handlers, as the broker would deliver them), and returns
the moments whose read models differ: none when the consumer keeps the newest."""

from collections.abc import Callable
from typing import Any

from django.db import transaction

from evcharge.events.dispatch import deliver
from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import InboxMessage
from evcharge.events.registry import handlers_for


def _built(consumer: str, events: list[EventEnvelope], wipe: Callable[[], None], snapshot: Callable[[], Any]) -> Any:
    with transaction.atomic():
        wipe()
        InboxMessage.objects.filter(consumer=consumer).delete()
    for envelope in events:
        deliver(envelope, consumer)
    return snapshot()


def moments_that_differ(
    consumer: str, events: list[EventEnvelope], *, wipe: Callable[[], None], snapshot: Callable[[], Any]
) -> list[tuple[str, int, Any, Any]]:
    """(the moment's last event type, its version, the read model in order, in reverse) for each moment that
    differs."""
    heard = [e for e in events if handlers_for(e.type, consumer)]
    assert heard, f"{consumer} hears none of these events"
    differing = []
    for end in range(1, len(heard) + 1):
        so_far = heard[:end]
        in_order = _built(consumer, so_far, wipe, snapshot)
        in_reverse = _built(consumer, so_far[::-1], wipe, snapshot)
        if in_order != in_reverse:
            differing.append((so_far[-1].type, so_far[-1].data.version, in_order, in_reverse))
    return differing
