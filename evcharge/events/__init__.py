"""The event bus. Contexts use three names from here: publish, subscriber, EventEnvelope."""

from evcharge.events.envelope import EventEnvelope
from evcharge.events.registry import subscriber


def publish(event, *, subject=None, using="default"):
    from evcharge.events.outbox import publish as _publish

    return _publish(event, subject=subject, using=using)


__all__ = ["EventEnvelope", "publish", "subscriber"]
