"""Who consumes which event type: `@subscriber("station.created.v1", consumer="pricing")`.

A pattern follows AMQP topic rules, in every transport alike: words are separated by dots, `*` stands
for exactly one word and `#` for zero or more (`station.*.v1` matches `station.created.v1`, not
`station.config.updated.v1`). On RabbitMQ a pattern is the binding key of the consumer's queue.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

Handler = Callable[[Any], None]


@dataclass(frozen=True)
class Subscription:
    pattern: str  # an event type, or a topic pattern such as "station.*.v1"
    consumer: str  # the consuming context: one queue each
    handler: Handler

    def matches(self, event_type: str) -> bool:
        return topic_matches(self.pattern, event_type)

    @property
    def name(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"


@cache
def topic_matches(pattern: str, routing_key: str) -> bool:
    return _match(tuple(pattern.split(".")), tuple(routing_key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


_subscriptions: list[Subscription] = []


def subscriber(pattern: str, *, consumer: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        subscription = Subscription(pattern, consumer, handler)
        if not any(s.name == subscription.name and s.pattern == pattern for s in _subscriptions):
            _subscriptions.append(subscription)
        return handler

    return register


def unsubscribe(handler: Handler) -> None:
    """Removes a handler's subscriptions (tests that subscribe for their own duration)."""
    _subscriptions[:] = [s for s in _subscriptions if s.handler is not handler]


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
