"""Who consumes which event type: `@subscriber("station.created.v1", consumer="pricing")`."""

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[Any], None]


@dataclass(frozen=True)
class Subscription:
    pattern: str  # an event type, or a glob such as "station.*.v1"
    consumer: str  # the consuming context: one queue each
    handler: Handler

    def matches(self, event_type: str) -> bool:
        return fnmatch.fnmatchcase(event_type, self.pattern)

    @property
    def name(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"


_subscriptions: list[Subscription] = []


def subscriber(pattern: str, *, consumer: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        subscription = Subscription(pattern, consumer, handler)
        if not any(s.name == subscription.name and s.pattern == pattern for s in _subscriptions):
            _subscriptions.append(subscription)
        return handler

    return register


def subscriptions() -> list[Subscription]:
    return list(_subscriptions)


def consumers() -> dict[str, list[Subscription]]:
    by_consumer: dict[str, list[Subscription]] = {}
    for subscription in _subscriptions:
        by_consumer.setdefault(subscription.consumer, []).append(subscription)
    return by_consumer


def handlers_for(event_type: str, consumer: str) -> list[Handler]:
    return [s.handler for s in _subscriptions if s.consumer == consumer and s.matches(event_type)]


def consumers_of(event_type: str) -> list[str]:
    return sorted({s.consumer for s in _subscriptions if s.matches(event_type)})
