"""A running OCPP gateway and chargers that talk to it over a real WebSocket (the `ocpp` package's own v16
ChargePoint as the client).

Import the fixtures a test module needs: `from tests.chargepoints.gateway_fixtures import gateway, ocpp_charger`.
The gateway and every charger run on one event loop in a background thread; tests stay synchronous and call
`charger.call(call.Heartbeat())`, which waits for the answer."""

import asyncio
import base64
import contextlib
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from ocpp.messages import MessageType, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect

STATION = {
    "name": "Depot Nord",
    "address": "Hafenstrasse 1, Hamburg",
    "latitude": 53.54,
    "longitude": 9.98,
    "timezone": "Europe/Berlin",
}
PASSWORD = "charger-secret-0123456789"


class EventLoopThread:
    """An asyncio loop in a daemon thread; `run(coro)` waits for the coroutine's result from a test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ocpp-test-loop", daemon=True)
        self._thread.start()

    def submit(self, coroutine) -> Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine, timeout: float = 30) -> Any:
        return self.submit(coroutine).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class SimulatedCharger(ChargePoint):
    """A charger: answers the central system's calls (Accepted, or `answers[action]`), optionally slowly."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.answers: dict[str, Any] = {}
        self.answer_delay = 0.0
        self._handling: set[asyncio.Task] = set()

    async def route_message(self, raw_msg) -> None:
        """Answers the central system's calls on their own tasks, so that the charger keeps reading (and its own
        calls complete) while it thinks about an answer; keeps every answer it got, by message id."""
        message = unpack(raw_msg)
        if message.message_type_id == MessageType.Call:
            task = asyncio.ensure_future(super().route_message(raw_msg))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)
        else:
            self.answers[message.unique_id] = message
            self._response_queue.put_nowait(message)

    async def _answer(self, action: str, payload: dict):
        self.received.append((action, payload))
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)

    @on(Action.get_configuration)
    async def on_get_configuration(self, **payload):
        await self._answer("GetConfiguration", payload)
        return call_result.GetConfiguration(configuration_key=[{"key": "HeartbeatInterval", "readonly": False}])

    @on(Action.reset)
    async def on_reset(self, **payload):
        await self._answer("Reset", payload)
        return call_result.Reset(status="Accepted")

    @on(Action.unlock_connector)
    async def on_unlock_connector(self, **payload):
        await self._answer("UnlockConnector", payload)
        return call_result.UnlockConnector(status="NotSupported")


class ChargerClient:
    """The synchronous face of a SimulatedCharger for tests."""

    def __init__(self, loop: EventLoopThread, charge_point: SimulatedCharger, websocket) -> None:
        self.loop = loop
        self.cp = charge_point
        self.websocket = websocket
        self._reader = loop.submit(charge_point.start())

    def call(self, payload, timeout: float = 30):
        return self.loop.run(self.cp.call(payload, suppress=False), timeout)

    def send_raw(self, frame: str) -> None:
        self.loop.run(self.websocket.send(frame))

    def close(self) -> None:
        self.loop.run(self.websocket.close())
        self._reader.cancel()
        for answering in list(self.cp._handling):
            self.loop.loop.call_soon_threadsafe(answering.cancel)

    @property
    def closed(self) -> bool:
        return self.websocket.close_code is not None


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def ocpp_loop() -> Iterator[EventLoopThread]:
    loop = EventLoopThread()
    yield loop
    loop.close()


@pytest.fixture
def gateway(ocpp_loop, settings):
    """A gateway on a free port of 127.0.0.1 (its database work in its own threads, as in production)."""
    from apps.chargepoints.gateway.server import Gateway

    settings.OCPP_LAST_SEEN_FLUSH_S = 0.2
    instance = Gateway(host="127.0.0.1", port=0, instance_id=f"test-{uuid.uuid4().hex[:8]}", call_timeout=5)
    ocpp_loop.run(instance.start())
    instance.url = f"ws://127.0.0.1:{instance.port}"
    instance.http_url = f"http://127.0.0.1:{instance.port}"
    yield instance
    ocpp_loop.run(instance.stop())


@pytest.fixture
def connect_charger(ocpp_loop, gateway):
    """connect_charger(charge_box_id, password=..., subprotocols=[...], gateway_url=...) -> ChargerClient."""
    clients: list[ChargerClient] = []

    def make(
        charge_box_id: str,
        password: str | None = PASSWORD,
        subprotocols=("ocpp1.6",),
        gateway_url: str | None = None,
        **connect_options,
    ) -> ChargerClient:
        headers = {"Authorization": basic_auth(charge_box_id, password)} if password is not None else {}

        async def open_connection():
            websocket = await connect(
                f"{gateway_url or gateway.url}/ocpp/{charge_box_id}",
                subprotocols=list(subprotocols),
                additional_headers=headers,
                open_timeout=10,
                **connect_options,
            )
            return websocket

        websocket = ocpp_loop.run(open_connection())
        client = ChargerClient(ocpp_loop, SimulatedCharger(charge_box_id, websocket, response_timeout=10), websocket)
        clients.append(client)
        return client

    yield make
    for client in clients:
        if not client.closed:
            with contextlib.suppress(Exception):
                client.close()


@pytest.fixture
def ocpp_station(operator_client, operator_user):
    """A station with an OCPP charger (serial = charge box id) whose OCPP password is set, and a rate plan."""
    from apps.chargepoints.services.credentials import charge_box_set_password

    serial = f"OCPP-{uuid.uuid4().hex[:8].upper()}"
    body = dict(
        STATION,
        chargers=[
            {
                "serial": serial,
                "max_power_kw": 22,
                "connectors": [{"number": 1, "type": "TYPE2"}, {"number": 2, "type": "TYPE2"}],
            }
        ],
    )
    created = operator_client.post("/api/v1/stations", body, format="json")
    assert created.status_code == 201, created.content
    station = created.json()
    plan = operator_client.post(
        "/api/v1/pricing/rate-plans",
        {"name": "AC", "currency": "EUR", "energy_price_per_kwh": 35, "is_default": True},
        format="json",
    )
    assert plan.status_code == 201, plan.content
    charger = station["chargers"][0]
    charge_box_set_password(charger_id=uuid.UUID(charger["id"]), password=PASSWORD, by=operator_user.id)
    return {"station": station, "charger": charger, "serial": serial, "connectors": charger["connectors"]}


def boot(client: ChargerClient):
    return client.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="AC22"))
