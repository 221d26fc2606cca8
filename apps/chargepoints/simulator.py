"""A charger simulator speaking OCPP 1.6J (the `ocpp` package's v16 ChargePoint as a client, over `websockets`):
for trying the gateway by hand, the demo and the benchmark. It talks only OCPP; it imports nothing of the platform.

It boots, reports its connectors Available, sends Heartbeats at the interval the central system gives, and
answers the central system's calls: a RemoteStartTransaction starts a transaction (Preparing, Charging,
StartTransaction with its meter), MeterValues follow every `meter_interval` seconds with the energy rising at the
connector's power, and a RemoteStopTransaction (or `charge_seconds` elapsed) stops it with its meterStop."""

import asyncio
import base64
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect

logger = logging.getLogger("evcharge.simulator")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Transaction:
    connector_id: int
    transaction_id: int
    meter_wh: int
    task: asyncio.Task | None = None


@dataclass
class ChargerState:
    connectors: int = 1
    power_kw: float = 22.0
    meter_interval: float = 5.0
    meter_wh: dict[int, int] = field(default_factory=dict)
    transactions: dict[int, Transaction] = field(default_factory=dict)  # by connector


class SimulatedChargePoint(ChargePoint):
    def __init__(self, charge_box_id: str, connection, state: ChargerState, **kwargs) -> None:
        super().__init__(charge_box_id, connection, **kwargs)
        self.state = state
        for number in range(1, state.connectors + 1):
            state.meter_wh.setdefault(number, 1_000_000)

    async def boot(self) -> int:
        answer = await self.call(
            call.BootNotification(
                charge_point_vendor="evcharge", charge_point_model="Simulator", firmware_version="1.0"
            )
        )
        for number in range(0, self.state.connectors + 1):
            await self.status(number, "Available")
        return int(answer.interval) or 300

    async def heartbeats(self, interval: int) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.call(call.Heartbeat())

    async def status(self, connector_id: int, status: str) -> None:
        await self.call(call.StatusNotification(connector_id=connector_id, error_code="NoError", status=status))

    async def start_transaction(self, connector_id: int, id_tag: str) -> Transaction | None:
        if connector_id in self.state.transactions:
            return None
        await self.status(connector_id, "Preparing")
        meter = self.state.meter_wh[connector_id]
        answer = await self.call(
            call.StartTransaction(connector_id=connector_id, id_tag=id_tag, meter_start=meter, timestamp=_now())
        )
        if answer.id_tag_info["status"] != "Accepted":
            logger.warning("transaction refused: %s", answer.id_tag_info["status"])
            await self.status(connector_id, "Available")
            return None
        transaction = Transaction(connector_id, answer.transaction_id, meter)
        self.state.transactions[connector_id] = transaction
        await self.status(connector_id, "Charging")
        transaction.task = asyncio.ensure_future(self._meter_values(transaction))
        return transaction

    async def _meter_values(self, transaction: Transaction) -> None:
        per_interval = int(self.state.power_kw * 1000 * self.state.meter_interval / 3600)
        while True:
            await asyncio.sleep(self.state.meter_interval)
            transaction.meter_wh += per_interval
            self.state.meter_wh[transaction.connector_id] = transaction.meter_wh
            sampled = [
                {"value": str(transaction.meter_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": str(int(self.state.power_kw * 1000)), "measurand": "Power.Active.Import", "unit": "W"},
            ]
            await self.call(
                call.MeterValues(
                    connector_id=transaction.connector_id,
                    transaction_id=transaction.transaction_id,
                    meter_value=[{"timestamp": _now(), "sampledValue": sampled}],
                )
            )

    async def stop_transaction(self, connector_id: int, reason: str = "Local") -> bool:
        transaction = self.state.transactions.pop(connector_id, None)
        if transaction is None:
            return False
        if transaction.task is not None:
            transaction.task.cancel()
        await self.status(connector_id, "Finishing")
        await self.call(
            call.StopTransaction(
                transaction_id=transaction.transaction_id,
                meter_stop=transaction.meter_wh,
                timestamp=_now(),
                reason=reason,
            )
        )
        await self.status(connector_id, "Available")
        return True

    def _later(self, coroutine) -> None:
        """Acts after the answer went out (a charger answers a remote call first, then does the work)."""
        asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(coroutine))

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None, **_):
        number = connector_id or next(
            (n for n in range(1, self.state.connectors + 1) if n not in self.state.transactions), None
        )
        if number is None or number in self.state.transactions or number > self.state.connectors:
            return call_result.RemoteStartTransaction(status="Rejected")
        self._later(self.start_transaction(number, id_tag))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int, **_):
        for number, transaction in self.state.transactions.items():
            if transaction.transaction_id == transaction_id:
                self._later(self.stop_transaction(number, "Remote"))
                return call_result.RemoteStopTransaction(status="Accepted")
        return call_result.RemoteStopTransaction(status="Rejected")

    @on(Action.reset)
    def on_reset(self, **_):
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_):
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.unlock_connector)
    def on_unlock(self, connector_id: int, **_):
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, **_):
        if requested_message == "Heartbeat":
            self._later(self.call(call.Heartbeat()))
            return call_result.TriggerMessage(status="Accepted")
        return call_result.TriggerMessage(status="NotImplemented")

    @on(Action.reserve_now)
    def on_reserve_now(self, connector_id: int, **_):
        return call_result.ReserveNow(status="Accepted" if connector_id not in self.state.transactions else "Occupied")

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_):
        return call_result.CancelReservation(status="Accepted")

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_):
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list | None = None, **_):
        known = [{"key": "MeterValueSampleInterval", "readonly": False, "value": str(int(self.state.meter_interval))}]
        return call_result.GetConfiguration(configuration_key=known)


async def run_simulator(
    *,
    url: str,
    charge_box_id: str,
    password: str = "",
    state: ChargerState | None = None,
    id_tag: str = "",
    charge_seconds: float = 0,
) -> None:
    """Connects, boots and runs until cancelled; with `id_tag`, starts a local transaction on connector 1 (and
    stops it after `charge_seconds`, when given)."""
    state = state or ChargerState()
    headers = {}
    if password:
        token = base64.b64encode(f"{charge_box_id}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    async with connect(
        f"{url.rstrip('/')}/{charge_box_id}", subprotocols=["ocpp1.6"], additional_headers=headers
    ) as ws:
        charger = SimulatedChargePoint(charge_box_id, ws, state)
        reader = asyncio.ensure_future(charger.start())
        try:
            interval = await charger.boot()
            beating = asyncio.ensure_future(charger.heartbeats(interval))
            if id_tag:
                await charger.start_transaction(1, id_tag)
                if charge_seconds:
                    await asyncio.sleep(charge_seconds)
                    await charger.stop_transaction(1)
            await asyncio.gather(reader, beating)
        finally:
            reader.cancel()
