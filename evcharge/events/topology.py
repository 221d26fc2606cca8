"""The RabbitMQ topology, derived from settings and the subscriber registry.

    exchange  EVENTS_EXCHANGE (topic, durable)          routing key = event type
    queue     EVENTS_QUEUE_PREFIX + consumer (durable)  bound with each of the consumer's patterns
    DLX       EVENTS_EXCHANGE + ".dlx" (direct)         routing key = the consumer's queue name
    retry     <queue> + ".retry" (durable, no consumer) a failed delivery waits out its backoff here
              (per-message TTL), then expires back into <queue>
    DLQ       <queue> + ".dead" (durable)               where poison messages and exhausted retries end

Declaring is idempotent; both the relay (before its first publish, so no event is dropped before a
consumer ever started) and every consumer declare it. Works on a py-amqp channel, which is also
what kombu's pyamqp transport hands out.
"""

from django.conf import settings

from evcharge.events.registry import consumers


def exchange_name() -> str:
    return settings.EVENTS_EXCHANGE


def dead_letter_exchange_name() -> str:
    return f"{settings.EVENTS_EXCHANGE}.dlx"


def queue_name(consumer: str) -> str:
    return f"{settings.EVENTS_QUEUE_PREFIX}{consumer}"


def dead_letter_queue_name(consumer: str) -> str:
    return f"{queue_name(consumer)}.dead"


def retry_queue_name(consumer: str) -> str:
    return f"{queue_name(consumer)}.retry"


def consumer_names(only: list[str] | None = None) -> list[str]:
    names = sorted(consumers())
    if only:
        unknown = set(only) - set(names)
        if unknown:
            raise ValueError(f"no subscriber is registered for consumer(s) {sorted(unknown)}")
        names = [name for name in names if name in only]
    return names


def binding_keys(consumer: str) -> list[str]:
    return sorted({subscription.pattern for subscription in consumers().get(consumer, [])})


def declare_exchanges(channel) -> None:
    channel.exchange_declare(exchange_name(), "topic", durable=True, auto_delete=False)
    channel.exchange_declare(dead_letter_exchange_name(), "direct", durable=True, auto_delete=False)


def declare_consumer(channel, consumer: str) -> None:
    queue, dead = queue_name(consumer), dead_letter_queue_name(consumer)
    channel.queue_declare(dead, durable=True, auto_delete=False)
    channel.queue_bind(dead, dead_letter_exchange_name(), routing_key=queue)
    channel.queue_declare(
        retry_queue_name(consumer),
        durable=True,
        auto_delete=False,
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue},
    )
    channel.queue_declare(
        queue,
        durable=True,
        auto_delete=False,
        arguments={"x-dead-letter-exchange": dead_letter_exchange_name(), "x-dead-letter-routing-key": queue},
    )
    for key in binding_keys(consumer):
        channel.queue_bind(queue, exchange_name(), routing_key=key)


def declare_topology(channel, only: list[str] | None = None) -> None:
    declare_exchanges(channel)
    for consumer in consumer_names(only):
        declare_consumer(channel, consumer)
    remove_stale_bindings(channel, {queue_name(name): binding_keys(name) for name in consumer_names()})


def remove_stale_bindings(channel, wanted: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Unbinds what an earlier release bound and no subscription names now (a consumer's dropped pattern, or a
    consumer gone altogether), records what is bound, and returns the (queue, key) pairs it removed."""
    from django.db import transaction

    from evcharge.events.models import QueueBinding

    exchange = exchange_name()
    removed = []
    with transaction.atomic():
        recorded = QueueBinding.objects.select_for_update().filter(exchange=exchange)
        for binding in recorded:
            if binding.routing_key not in wanted.get(binding.queue, ()):
                _unbind(channel, binding.queue, exchange, binding.routing_key)
                removed.append((binding.queue, binding.routing_key))
                binding.delete()
        QueueBinding.objects.bulk_create(
            [
                QueueBinding(exchange=exchange, queue=queue, routing_key=key)
                for queue, keys in wanted.items()
                for key in keys
            ],
            ignore_conflicts=True,
        )
    return removed


def delete_topology(channel, consumer_list: list[str]) -> None:
    """Drops the queues and exchanges (test clean-up: the names are unique per test)."""
    for consumer in consumer_list:
        channel.queue_delete(queue_name(consumer))
        channel.queue_delete(dead_letter_queue_name(consumer))
        channel.queue_delete(retry_queue_name(consumer))
    channel.exchange_delete(exchange_name())
    channel.exchange_delete(dead_letter_exchange_name())


def _unbind(channel, queue: str, exchange: str, routing_key: str) -> None:
    """On a channel of its own: unbinding from a queue someone deleted closes the channel it is sent on."""
    import amqp

    spare = channel.connection.channel()
    try:
        spare.queue_unbind(queue, exchange, routing_key=routing_key)
    except amqp.exceptions.NotFound:
        pass  # the queue is gone, and its bindings with it
    finally:
        if spare.is_open:
            spare.close()
