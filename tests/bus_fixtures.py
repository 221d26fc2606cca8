"""Event-bus fixtures (registered from tests/conftest.py).

Tests marked `@pytest.mark.rabbitmq` run on the real RabbitMQ transport, isolated from every other
run: the exchange and the queue prefix are unique to the test (settings.EVENTS_EXCHANGE,
EVENTS_QUEUE_PREFIX), the topology (every registered consumer's queue, its bindings, its
dead-letter queue) is declared, every consumer runs in a background thread of the test process
(`ConsumerLoop`, the same code as the Celery consumer step), and the relay runs in-process right
after each publishing commit (the Celery relay task runs eagerly: no worker needed). Afterwards the
consumers stop and the exchanges and queues are deleted. A message left in a dead-letter queue fails
the test unless it is marked `allow_dead_letters` (retries wait EVENTS_HANDLER_RETRY_DELAY_SECONDS,
0.05 s here and doubling, so a failing handler reaches its dead-letter queue in under a second;
`bus.settle()` at the end of a test makes sure it got there).

Delivery is asynchronous, so wait for its effect, never sleep::

    @pytest.mark.postgres
    @pytest.mark.rabbitmq
    def test_invoice_after_session(bus, driver_client, ...):
        response = driver_client.post("/api/v1/sessions/.../stop", ...)
        invoice = bus.wait_until(lambda: Invoice.objects.filter(session_id=...).first())
        ...
        bus.settle()   # or: wait until every published event has been handled (outbox sent, queues empty)

`bus` also offers:
    bus.subscribe("user.created.v1", consumer="test_x")(handler)   # a subscriber for this test only
                                    # (the `subscribe` fixture does the same on either transport)
    tap = bus.tap("station.#")      # a queue bound to the exchange; tap.wait_for(n) -> [Delivery]
    bus.dead_letters("billing")     # what sits in a consumer's dead-letter queue
    bus.relay()                      # run the relay now (e.g. after changing the time)

Every test (any transport) also checks, at its end, that every event in the outbox validates
against its type's JSON Schema (evcharge.events.catalog): a contract drift fails the test that
caused it.
"""

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Delivery:
    routing_key: str
    properties: dict[str, Any]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.json["id"]


def wait_until(condition: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Polls `condition` until it returns something truthy (returned), or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {message or getattr(condition, '__name__', condition)}")
        time.sleep(interval)


class Tap:
    """A private queue bound to the events exchange: sees what the relay really published."""

    def __init__(self, url: str, exchange: str, binding: str) -> None:
        from evcharge.events.broker import connect

        self.connection = connect(url)
        self.channel = self.connection.channel()
        self.queue, _, _ = self.channel.queue_declare("", exclusive=True, auto_delete=True)
        self.channel.queue_bind(self.queue, exchange, routing_key=binding)
        self.received: list[Delivery] = []

    def _fetch(self) -> None:
        while (message := self.channel.basic_get(self.queue, no_ack=True)) is not None:
            self.received.append(Delivery(message.delivery_info["routing_key"], dict(message.properties), message.body))

    def messages(self) -> list[Delivery]:
        """Everything received so far."""
        self._fetch()
        return list(self.received)

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Delivery]:
        wait_until(lambda: len(self.messages()) >= count, timeout=timeout, message=f"{count} message(s) on the tap")
        return self.messages()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()


class Bus:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.loop = None
        self._taps: list[Tap] = []
        self._subscribed: list[Callable] = []
        self._declared: set[str] = set()

    wait_until = staticmethod(wait_until)

    @property
    def url(self) -> str:
        return self.settings.EVENTS_BROKER_URL

    def _channel_do(self, action: Callable[[Any], Any]) -> Any:
        from evcharge.events.broker import connect

        connection = connect(self.url)
        try:
            return action(connection.channel())
        finally:
            connection.close()

    def start(self) -> None:
        from evcharge.events.consumer import ConsumerLoop
        from evcharge.events.topology import consumer_names, declare_topology

        names = consumer_names()
        self._declared.update(names)
        self._channel_do(declare_topology)
        self.loop = ConsumerLoop(names, url=self.url).start()

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()
            self.loop = None

    def restart_consumers(self) -> None:
        self.stop()
        self.start()

    def subscribe(self, pattern: str, *, consumer: str) -> Callable[[Callable], Callable]:
        """Registers a subscriber for this test only and (re)starts the consumers with its queue."""
        from evcharge.events.registry import subscriber

        def register(handler: Callable) -> Callable:
            subscriber(pattern, consumer=consumer)(handler)
            self._subscribed.append(handler)
            self.restart_consumers()
            return handler

        return register

    def tap(self, binding: str = "#") -> Tap:
        tap = Tap(self.url, self.settings.EVENTS_EXCHANGE, binding)
        self._taps.append(tap)
        return tap

    def relay(self) -> int:
        from evcharge.events.relay import relay_pending

        return relay_pending()

    def queue_depth(self, queue: str) -> int:
        def depth(channel):
            _, count, _ = channel.queue_declare(queue, passive=True)
            return count

        return self._channel_do(depth)

    def dead_letters(self, consumer: str | None = None) -> list:
        from evcharge.events.deadletters import list_queued

        return list_queued([consumer] if consumer else sorted(self._declared))

    def settle(self, *, timeout: float = 15.0) -> None:
        """Waits until every event published so far has been sent and handled (twice idle in a row)."""
        from evcharge.events.models import OutboxMessage
        from evcharge.events.topology import queue_name, retry_queue_name

        def idle() -> bool:
            self.relay()
            if OutboxMessage.objects.filter(sent_at__isnull=True, dead_at__isnull=True).exists():
                return False
            queues = [queue for name in sorted(self._declared) for queue in (queue_name(name), retry_queue_name(name))]
            if any(self.queue_depth(queue) for queue in queues):
                return False
            return not (self.loop and self.loop.busy)

        wait_until(lambda: idle() and idle(), timeout=timeout, message="the bus to settle")

    def teardown(self, check_dead_letters: bool) -> None:
        from evcharge.events.registry import unsubscribe
        from evcharge.events.topology import dead_letter_queue_name, delete_topology

        self.stop()
        for tap in self._taps:
            tap.close()
        for handler in self._subscribed:
            unsubscribe(handler)
        dead = {}
        if check_dead_letters:
            dead = {name: n for name in sorted(self._declared) if (n := self.queue_depth(dead_letter_queue_name(name)))}
        with contextlib.suppress(OSError):
            self._channel_do(lambda channel: delete_topology(channel, sorted(self._declared)))
        assert not dead, f"events were dead-lettered on RabbitMQ: {dead}"


@pytest.fixture(autouse=True)
def _rabbitmq_bus(request, _platform_test_defaults, settings):
    """Per-test RabbitMQ bus for tests marked rabbitmq (see the module docstring); None otherwise."""
    if request.node.get_closest_marker("rabbitmq") is None:
        yield None
        return
    from evcharge.celery import app
    from evcharge.events.transports import reset_transports

    unique = f"test.{uuid.uuid4().hex[:12]}"
    settings.EVENTS_EXCHANGE = f"{unique}.events"
    settings.EVENTS_QUEUE_PREFIX = f"{unique}."
    settings.EVENTS_BROKER_URL = settings.CELERY_BROKER_URL
    settings.EVENTS_HANDLER_RETRY_DELAY_SECONDS = 0.05
    app.conf.task_always_eager = True  # the relay task runs right after commit, in-process
    reset_transports()
    bus = Bus(settings)
    bus.start()
    try:
        yield bus
    finally:
        reset_transports()
        bus.teardown(check_dead_letters=request.node.get_closest_marker("allow_dead_letters") is None)


@pytest.fixture
def bus(_rabbitmq_bus) -> Bus:
    """The test's RabbitMQ bus; needs @pytest.mark.rabbitmq."""
    if _rabbitmq_bus is None:
        pytest.fail("the bus fixture needs @pytest.mark.rabbitmq", pytrace=False)
    return _rabbitmq_bus


@pytest.fixture
def subscribe(_rabbitmq_bus):
    """subscribe("user.created.v1", consumer="test_x")(handler): a subscriber for this test only, on
    either transport (on RabbitMQ its queue is declared and consumed)."""
    from evcharge.events.registry import subscriber, unsubscribe

    registered: list[Callable] = []

    def register(pattern: str, *, consumer: str) -> Callable[[Callable], Callable]:
        def decorate(handler: Callable) -> Callable:
            if _rabbitmq_bus is not None:
                return _rabbitmq_bus.subscribe(pattern, consumer=consumer)(handler)
            subscriber(pattern, consumer=consumer)(handler)
            registered.append(handler)
            return handler

        return decorate

    yield register
    for handler in registered:
        unsubscribe(handler)


@pytest.fixture(autouse=True)
def _published_events_match_their_schemas(request):
    """At the end of every test, each event in the outbox must validate against its JSON Schema."""
    yield
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        return
    from evcharge.events.catalog import validation_errors
    from evcharge.events.models import OutboxMessage

    problems = []
    for event_id, envelope in OutboxMessage.objects.values_list("id", "envelope").iterator(chunk_size=2000):
        problems.extend(f"{envelope.get('type')} {event_id}: {error}" for error in validation_errors(envelope)[:3])
        if len(problems) >= 20:
            break
    assert not problems, "published events do not match their schemas:\n" + "\n".join(problems)
