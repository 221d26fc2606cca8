"""How a remote command reaches the gateway instance that holds the charger's connection.

Over RabbitMQ (EVENTS_TRANSPORT=rabbitmq): a direct exchange (OCPP_COMMANDS_EXCHANGE, `evcharge.ocpp.commands`);
each gateway instance declares ONE exclusive, auto-deleted queue `evcharge.ocpp.gateway.<instance_id>` (gone with
the instance's connection) and binds the charge box id as routing key while the charger is connected to it. The
web or worker process publishes the command id with `mandatory=True` and publisher confirms: a command no queue is
bound for comes back (basic.return) and is `offline` at once, never after a timeout.

Embedded (EVENTS_TRANSPORT=inline, no broker): the same consumer polls the RemoteCommand table for pending
commands of the charge boxes it holds, and the publisher calls a command `offline` when its charge box is not
connected.

A command is a one-shot: the message is acked once handed to the gateway, never redelivered (the gateway sends
only a command still `pending`; a lost one is timed out by the sweep)."""

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from django.conf import settings
from django.db import close_old_connections, connections

from apps.chargepoints.models import ChargeBox, RemoteCommand

logger = logging.getLogger(__name__)

QUEUE_PREFIX = "evcharge.ocpp.gateway."
EMBEDDED_POLL_INTERVAL_S = 0.5
OnCommand = Callable[[str, UUID], Awaitable[None]]


def over_broker() -> bool:
    return settings.EVENTS_TRANSPORT == "rabbitmq" and bool(settings.EVENTS_BROKER_URL)


def queue_name(instance_id: str) -> str:
    return f"{QUEUE_PREFIX}{instance_id}"


def _message_ttl_ms() -> int:
    """A command waiting longer than a call's timeout is stale: the sweep times it out, nobody should send it."""
    return max(1000, int(settings.OCPP_CALL_TIMEOUT_S * 1000))


# --- publisher side (sync: web and worker processes, after commit) ---


class RoutingUnavailable(Exception):
    """The broker could not be reached or did not confirm: whether the command was routed is unknown."""


_local = threading.local()


def _publisher():
    from evcharge.events.broker import ConfirmingPublisher

    key = (settings.EVENTS_BROKER_URL, settings.OCPP_COMMANDS_EXCHANGE)
    publisher = getattr(_local, "publisher", None)
    if publisher is None or getattr(_local, "key", None) != key:
        if publisher is not None:
            publisher.close()
        publisher = ConfirmingPublisher(
            settings.EVENTS_BROKER_URL,
            connect_timeout=settings.EVENTS_CONNECT_TIMEOUT,
            confirm_timeout=settings.EVENTS_CONFIRM_TIMEOUT,
        )
        publisher.channel.exchange_declare(settings.OCPP_COMMANDS_EXCHANGE, "direct", durable=True, auto_delete=False)
        _local.publisher, _local.key = publisher, key
    return publisher


def _drop_publisher() -> None:
    publisher = getattr(_local, "publisher", None)
    _local.publisher = None
    if publisher is not None:
        publisher.close()


def command_publish(*, charge_box_id: str, command_id: UUID) -> bool:
    """Hands the command to the gateway instance holding the charger. False: no instance holds it (offline).
    Raises RoutingUnavailable when the broker cannot tell."""
    if not over_broker():
        return ChargeBox.objects.filter(charge_box_id=charge_box_id, connected=True).exists()
    from evcharge.events.broker import Outgoing

    message = Outgoing(
        key=str(command_id),
        exchange=settings.OCPP_COMMANDS_EXCHANGE,
        routing_key=charge_box_id,
        body=json.dumps({"command_id": str(command_id), "charge_box_id": charge_box_id}).encode(),
        properties={
            "message_id": str(command_id),
            "content_type": "application/json",
            "expiration": str(_message_ttl_ms()),
        },
    )
    last_error: Exception | None = None
    for _attempt in range(2):  # a cached connection the broker closed meanwhile: once more on a new one
        try:
            result = _publisher().publish_one(message)
        except Exception as error:
            last_error = error
            _drop_publisher()
            continue
        if result.failed:
            raise RoutingUnavailable(f"the broker refused the command: {result.failed}")
        return str(command_id) not in result.returned
    raise RoutingUnavailable(f"the broker could not be reached: {last_error}")


# --- consumer side (async: the gateway) ---


class CommandConsumer:
    """The commands for the charge boxes one gateway instance holds: `await on_command(charge_box_id, command_id)`
    per command. `start`, then `bind`/`unbind` as chargers come and go, `close` at the end."""

    def __init__(self, instance_id: str, on_command: OnCommand) -> None:
        self.instance_id = instance_id
        self.on_command = on_command
        self.embedded = not over_broker()
        self._bound: set[str] = set()
        self._connection = None
        self._exchange = None
        self._queue = None
        self._poller: asyncio.Task | None = None
        self._dispatched: set[UUID] = set()
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        if self.embedded:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocpp-commands")
            self._poller = asyncio.create_task(self._poll())
            return
        import aio_pika

        self._connection = await aio_pika.connect_robust(
            settings.EVENTS_BROKER_URL, timeout=settings.EVENTS_CONNECT_TIMEOUT
        )
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=100)
        self._exchange = await channel.declare_exchange(
            settings.OCPP_COMMANDS_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        self._queue = await channel.declare_queue(
            queue_name(self.instance_id),
            exclusive=True,
            auto_delete=True,
            arguments={"x-message-ttl": _message_ttl_ms()},
        )
        await self._queue.consume(self._on_message)
        logger.info("commands for gateway %s arrive on %s", self.instance_id, queue_name(self.instance_id))

    async def bind(self, charge_box_id: str) -> None:
        self._bound.add(charge_box_id)
        if self._queue is not None:
            await self._queue.bind(self._exchange, routing_key=charge_box_id)

    async def unbind(self, charge_box_id: str) -> None:
        self._bound.discard(charge_box_id)
        if self._queue is not None:
            with contextlib.suppress(Exception):  # a closed channel has no bindings left to remove
                await self._queue.unbind(self._exchange, routing_key=charge_box_id)

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, connections.close_all)
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    async def _on_message(self, message) -> None:
        async with message.process(ignore_processed=True):
            try:
                body = json.loads(message.body)
                charge_box_id, command_id = body["charge_box_id"], UUID(body["command_id"])
            except (ValueError, KeyError, TypeError):
                logger.warning("gateway %s: unreadable command message dropped: %.200r", self.instance_id, message.body)
                return
            if charge_box_id not in self._bound:
                return  # the charger left this instance while the message was on its way
            await self.on_command(charge_box_id, command_id)

    # --- embedded mode ---

    def _pending_ids(self, charge_box_ids: list[str]) -> list[tuple[str, UUID]]:
        close_old_connections()
        return list(
            RemoteCommand.objects.filter(
                status=RemoteCommand.Status.PENDING, charge_box__charge_box_id__in=charge_box_ids
            )
            .order_by("created_at")
            .values_list("charge_box__charge_box_id", "id")
        )

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(EMBEDDED_POLL_INTERVAL_S)
            if not self._bound:
                continue
            try:
                pending = await loop.run_in_executor(self._executor, self._pending_ids, sorted(self._bound))
            except Exception:
                logger.exception("gateway %s: polling remote commands failed", self.instance_id)
                continue
            # Handed over once: the next poll may still see it pending while the gateway sends it.
            self._dispatched &= {command_id for _, command_id in pending}
            for charge_box_id, command_id in pending:
                if command_id not in self._dispatched:
                    self._dispatched.add(command_id)
                    await self.on_command(charge_box_id, command_id)
