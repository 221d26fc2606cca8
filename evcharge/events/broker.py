"""A py-amqp connection that publishes batches with publisher confirms.

One-by-one confirms (publish, wait, publish, wait) cost a round trip per message. Here a batch is
published back to back on a channel in confirm mode and then the broker's acks are awaited together;
RabbitMQ acks with `multiple=True` when it can, so a batch costs about one round trip.
"""

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import amqp
from kombu.utils.url import parse_url


class ConfirmTimeout(Exception):
    """The broker did not confirm every message of the batch in time."""


@dataclass(slots=True)
class Outgoing:
    """One message to publish; `key` identifies it in the result (the event id)."""

    key: Any
    exchange: str
    routing_key: str
    body: bytes
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    failed: dict[Any, str] = field(default_factory=dict)  # nacked by the broker
    returned: set[Any] = field(default_factory=set)  # mandatory and routed to no queue (still acked)


def connect(url: str, *, connect_timeout: float = 5.0) -> amqp.Connection:
    parts = parse_url(url)
    connection = amqp.Connection(
        host=f"{parts.get('hostname') or '127.0.0.1'}:{parts.get('port') or 5672}",
        userid=parts.get("userid") or "guest",
        password=parts.get("password") or "guest",
        virtual_host=parts.get("virtual_host") or "/",
        connect_timeout=connect_timeout,
        heartbeat=0,
    )
    connection.connect()
    return connection


class ConfirmingPublisher:
    def __init__(self, url: str, *, connect_timeout: float = 5.0, confirm_timeout: float = 30.0) -> None:
        self.confirm_timeout = confirm_timeout
        self.connection = connect(url, connect_timeout=connect_timeout)
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.channel.events["basic_return"].add(self._on_return)
        self._next_tag = 1
        self._pending: dict[int, Any] = {}
        self._result = BatchResult()

    def _settle(self, delivery_tag: int, multiple: bool, error: str | None) -> None:
        tags = [t for t in self._pending if t <= delivery_tag] if multiple else [delivery_tag]
        for tag in tags:
            key = self._pending.pop(tag, None)
            if error is not None and key is not None:
                self._result.failed[key] = error

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, None)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, "nacked by the broker")

    def _on_return(self, exc, exchange, routing_key, message) -> None:
        # A mandatory message no queue is bound for: RabbitMQ returns it, then acks it.
        self._result.returned.add(self._keys_by_message_id.get(message.properties.get("message_id")))

    def publish_batch(self, messages: Iterable[Outgoing]) -> BatchResult:
        """Publishes every message, then waits until the broker confirmed all of them.
        Raises (ConfirmTimeout, connection errors) when the outcome is unknown: treat all as unsent."""
        self.publish_nowait(messages)
        return self.wait_for_confirms()

    def publish_nowait(self, messages: Iterable[Outgoing]) -> None:
        """First half of publish_batch: the caller may do other work while the broker confirms."""
        self._result = BatchResult()
        self._pending = {}
        self._keys_by_message_id: dict[str, Any] = {}
        publish = self.channel.basic_publish
        for message in messages:
            self._pending[self._next_tag] = message.key
            self._next_tag += 1
            message_id = message.properties.get("message_id")
            if message_id:
                self._keys_by_message_id[message_id] = message.key
            publish(
                amqp.Message(message.body, **message.properties),
                exchange=message.exchange,
                routing_key=message.routing_key,
                mandatory=True,
            )

    def wait_for_confirms(self) -> BatchResult:
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConfirmTimeout(f"{len(self._pending)} message(s) unconfirmed after {self.confirm_timeout}s")
            try:
                self.connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue
        self._result.returned.discard(None)
        return self._result

    def publish_one(self, message: Outgoing) -> BatchResult:
        return self.publish_batch([message])

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection: nothing left to do
            self.connection.close()
