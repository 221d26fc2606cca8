"""The OCPP gateway: a WebSocket server holding the chargers' connections (docs/ocpp.md).

The handshake (process_request) answers the probes and /metrics over plain HTTP, checks the path
`/ocpp/{charge_box_id}`, the subprotocol and the Basic credentials. Each accepted connection gets the protocol
module its subprotocol names. Database work runs in a bounded thread pool, never on the event loop, so a slow
charger never stalls the others. Remote commands arrive through h2's CommandConsumer (apps/chargepoints/routing.py).
"""

import asyncio
import base64
import binascii
import logging
import os
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote
from uuid import UUID

from django.conf import settings
from django.db import close_old_connections, connections
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from apps.chargepoints.gateway.actions import BoxIdentity, PlatformActions
from apps.chargepoints.gateway.batching import MeterBatcher
from apps.chargepoints.gateway.v16 import PROTOCOL_MODULES, V16Handler
from apps.chargepoints.routing import CommandConsumer
from apps.chargepoints.selectors import pending_command
from apps.chargepoints.services.connection import (
    ConnectionActions,
    HandshakeRefused,
    charge_box_authenticate,
    charge_boxes_release_instance,
    charge_boxes_seen,
)

logger = logging.getLogger(__name__)

PATH_PREFIX = "/ocpp/"

HANDSHAKES_REFUSED = Counter("evcharge_ocpp_handshakes_refused_total", "OCPP handshakes refused, by reason", ["reason"])
CONNECTIONS = Gauge("evcharge_ocpp_connections", "OCPP connections held by this gateway process")
MESSAGES = Counter("evcharge_ocpp_messages_total", "Frames received from chargers")
COMMANDS = Counter("evcharge_ocpp_commands_total", "Remote commands sent to chargers, by outcome", ["status"])
DB_SECONDS = Histogram("evcharge_ocpp_db_seconds", "Seconds of database work per charger message")


def default_instance_id() -> str:
    return settings.OCPP_INSTANCE_ID or f"{socket.gethostname()}-{os.getpid()}"


class Gateway:
    """One gateway process: its connections, its thread pool and its command consumer."""

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        instance_id: str | None = None,
        actions: PlatformActions | None = None,
        ping_interval: float | None = None,
        call_timeout: float | None = None,
    ) -> None:
        self.host = settings.OCPP_HOST if host is None else host
        self.port = settings.OCPP_PORT if port is None else port
        self.instance_id = instance_id or default_instance_id()
        self.actions: PlatformActions = actions or ConnectionActions()
        self.ping_interval = settings.OCPP_PING_INTERVAL_S if ping_interval is None else ping_interval
        self.call_timeout = settings.OCPP_CALL_TIMEOUT_S if call_timeout is None else call_timeout
        self._threads = max(1, settings.OCPP_DB_THREADS)
        self._executor = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="ocpp-db")
        self.meters = MeterBatcher(
            run=self.run,
            store=self.actions.meter_values_many,
            window_s=settings.OCPP_METER_BATCH_WINDOW_MS / 1000,
            max_items=settings.OCPP_METER_BATCH_MAX,
        )
        self._held: dict[str, V16Handler] = {}
        self._handshakes: dict[ServerConnection, BoxIdentity] = {}
        self._tasks: set[asyncio.Task] = set()
        self._server = None
        self._consumer = None
        self._ready = False
        self.heartbeats_flushed = 0

    # --- database work off the event loop ---

    async def run(self, fn, /, *args, **kwargs) -> Any:
        """Runs a synchronous (database) function in the pool; Django's connection hygiene around each call."""

        def call():
            close_old_connections()
            try:
                with DB_SECONDS.time():
                    return fn(*args, **kwargs)
            finally:
                close_old_connections()

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    # --- lifecycle ---

    async def start(self) -> None:
        released = await self.run(charge_boxes_release_instance, instance_id=self.instance_id)
        if released:
            logger.info("gateway %s: %d boxes held before a restart now disconnected", self.instance_id, released)
        self._consumer = CommandConsumer(self.instance_id, self.on_command)
        await self._consumer.start()
        self._server = await serve(
            self._serve_connection,
            self.host,
            self.port,
            process_request=self._process_request,
            subprotocols=list(PROTOCOL_MODULES),
            # A dead link is dropped within two ping intervals: the next ping at most one interval after it
            # died, half an interval for its pong, half for the closing handshake.
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval / 2,
            close_timeout=self.ping_interval / 2,
            ssl=self._ssl_context(),
            server_header=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._spawn(self._flush_last_seen())
        self._ready = True
        logger.info("OCPP gateway %s listening on %s:%s", self.instance_id, self.host, self.port)

    async def stop(self) -> None:
        self._ready = False
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.close()
        await asyncio.get_running_loop().run_in_executor(None, self._close_thread_connections)

    def _close_thread_connections(self) -> None:
        """Each pool thread closes its database connection (tests drop their database afterwards)."""
        barrier = threading.Barrier(self._threads)

        def close():
            connections.close_all()
            barrier.wait(timeout=10)

        futures = [self._executor.submit(close) for _ in range(self._threads)]
        for future in futures:
            future.result()
        self._executor.shutdown(wait=True)

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not settings.OCPP_TLS_CERT:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(settings.OCPP_TLS_CERT, settings.OCPP_TLS_KEY or None)
        return context

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- handshake ---

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path.startswith(PATH_PREFIX) and path.endswith("/"):
            path = path[:-1]  # some chargers append a slash to the URL they were given
        if path == "/health/live":
            return connection.respond(HTTPStatus.OK, "ok\n")
        if path == "/health/ready":
            if self._ready:
                return connection.respond(HTTPStatus.OK, "ready\n")
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "starting\n")
        if path == "/metrics":
            # Some collectors read the database (the outbox gauges): off the event loop like all database work.
            response = connection.respond(HTTPStatus.OK, (await self.run(generate_latest)).decode())
            response.headers["Content-Type"] = CONTENT_TYPE_LATEST
            return response
        if not path.startswith(PATH_PREFIX) or "/" in path[len(PATH_PREFIX) :] or path == PATH_PREFIX:
            return self._refuse(connection, HTTPStatus.NOT_FOUND, "path", "Connect to /ocpp/{charge_box_id}\n")
        charge_box_id = unquote(path[len(PATH_PREFIX) :])
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        if not any(protocol in PROTOCOL_MODULES for protocol in offered):
            return self._refuse(
                connection,
                HTTPStatus.BAD_REQUEST,
                "subprotocol",
                f"Unsupported subprotocol {offered or 'none'}; this gateway speaks {', '.join(PROTOCOL_MODULES)}\n",
                charge_box_id,
            )
        user, password = _basic_credentials(request.headers.get("Authorization", ""))
        if user is not None and user != charge_box_id:
            return self._refuse(connection, HTTPStatus.UNAUTHORIZED, "credentials", "Unauthorized\n", charge_box_id)
        try:
            box = await self.run(
                charge_box_authenticate,
                charge_box_id=charge_box_id,
                password=password,
                allow_unsecured=settings.OCPP_ALLOW_UNSECURED,
            )
        except HandshakeRefused as refusal:
            reason = "unknown_box" if refusal.status == 404 else "credentials"
            return self._refuse(connection, HTTPStatus(refusal.status), reason, f"{refusal.reason}\n", charge_box_id)
        self._handshakes[connection] = box
        return None

    def _refuse(
        self, connection: ServerConnection, status: HTTPStatus, reason: str, body: str, charge_box_id: str = ""
    ) -> Response:
        HANDSHAKES_REFUSED.labels(reason=reason).inc()
        logger.warning(
            "OCPP handshake refused (%s %s) for %r from %s",
            status.value,
            reason,
            charge_box_id,
            connection.remote_address,
        )
        response = connection.respond(status, body)
        if status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
        return response

    # --- connections ---

    async def _serve_connection(self, connection: ServerConnection) -> None:
        box = self._handshakes.pop(connection)
        protocol = connection.subprotocol
        handler = PROTOCOL_MODULES[protocol](
            connection,
            box=box,
            actions=self.actions,
            run=self.run,
            seen=self._seen,
            response_timeout=self.call_timeout,
            meters=self.meters if settings.OCPP_METER_BATCH_WINDOW_MS > 0 else None,
        )
        previous = self._held.get(box.charge_box_id)
        self._held[box.charge_box_id] = handler
        CONNECTIONS.inc()
        try:
            if previous is not None:
                logger.info("%s: a new connection replaces the previous one", box.charge_box_id)
                self._spawn(previous._connection.close(code=1000, reason="replaced by a new connection"))
            await self.run(
                self.actions.connected,
                box=box,
                instance_id=self.instance_id,
                protocol=protocol,
                at=datetime.now(UTC),
            )
            await self._consumer.bind(box.charge_box_id)
            await handler.start()
        except ConnectionClosed:
            pass
        finally:
            CONNECTIONS.dec()
            if self._held.get(box.charge_box_id) is handler:
                del self._held[box.charge_box_id]
                try:
                    await self._consumer.unbind(box.charge_box_id)
                finally:
                    await self.run(
                        self.actions.disconnected, box=box, instance_id=self.instance_id, at=datetime.now(UTC)
                    )
            logger.info("%s: disconnected", box.charge_box_id)

    def _seen(self, charge_box_id: str) -> None:
        MESSAGES.inc()

    async def _flush_last_seen(self) -> None:
        """Every few seconds one UPDATE sets last_seen_at of every connection this process holds: a link
        that answered the WebSocket pings (or sent a message) is alive; a dead one is dropped by the pings."""
        interval = settings.OCPP_LAST_SEEN_FLUSH_S
        while True:
            await asyncio.sleep(interval)
            held = list(self._held)
            if not held:
                continue
            try:
                await self.run(charge_boxes_seen, charge_box_ids=held, at=datetime.now(UTC))
                self.heartbeats_flushed += 1
            except Exception:
                logger.exception("flushing last_seen_at failed; retried at the next flush")

    def held(self) -> list[str]:
        return list(self._held)

    # --- remote commands ---

    async def on_command(self, charge_box_id: str, command_id: UUID) -> None:
        """A command routed to this instance: sent on its own task so the consumer is never held up."""
        self._spawn(self._send_command(charge_box_id, command_id))

    async def _send_command(self, charge_box_id: str, command_id: UUID) -> None:
        from apps.chargepoints.services import commands

        handler = self._held.get(charge_box_id)
        try:
            command = await self.run(pending_command, command_id)
            if command is None:
                return  # already sent or answered (a redelivery)
            if handler is None:
                await self.run(
                    commands.command_record_answer,
                    command_id=command_id,
                    status="offline",
                    response={"error": "the charger left this gateway before the command arrived"},
                )
                COMMANDS.labels(status="offline").inc()
                return
            if not await self.run(commands.command_mark_sent, command_id=command_id, gateway_instance=self.instance_id):
                return  # answered meanwhile (e.g. swept as timed out)
            status, response = await handler.send_command(command.action, command.payload)
            await self.run(commands.command_record_answer, command_id=command_id, status=status, response=response)
            COMMANDS.labels(status=status).inc()
        except Exception:
            logger.exception("%s: remote command %s failed", charge_box_id, command_id)


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator else (None, None)


def run_gateway(**options) -> None:
    """Runs a gateway until the process is stopped (SIGTERM/SIGINT close it cleanly)."""
    import signal

    async def main():
        gateway = Gateway(**options)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await gateway.start()
        try:
            await stop.wait()
        finally:
            await gateway.stop()

    asyncio.run(main())
