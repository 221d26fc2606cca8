"""OCPP 1.6J: the messages of a charger turned into platform actions, and remote commands into 1.6 calls.

The `ocpp` package validates every call against the 1.6 JSON schemas; `route_message` is overridden so that a
frame it can only log (malformed JSON, a wrong message shape) is answered with the CallError OCPP 1.6 names
whenever a message id can be read, and the connection stays open."""

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import (
    FormationViolationError,
    NotImplementedError,
    NotSupportedError,
    OccurenceConstraintViolationError,
    OCPPError,
    UnknownCallErrorCodeError,
    ValidationError,
)
from ocpp.messages import Call, MessageType, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, DataTransferStatus, RegistrationStatus
from websockets.exceptions import ConnectionClosed

from apps.chargepoints.gateway.actions import (
    Boot,
    BoxIdentity,
    ConnectorStatus,
    Meter,
    PlatformActions,
    Sample,
    TagAnswer,
    TransactionStart,
    TransactionStop,
)

logger = logging.getLogger(__name__)

PROTOCOL = "ocpp1.6"
Runner = Callable[..., Awaitable[Any]]
"""Runs a synchronous platform action off the event loop: `await run(fn, **kwargs)`."""


class MeterSink(Protocol):
    async def add(self, box: BoxIdentity, meter: Meter) -> None:
        """Returns once the meter is stored."""


ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
VOLTAGE = "Voltage"
SOC = "SoC"
UNIT_FACTORS = {"Wh": 1, "kWh": 1000, "W": 1, "kW": 1000, "A": 1, "V": 1, "Percent": 1}


def parse_time(value: str | None) -> datetime:
    """An OCPP dateTime (aware, UTC when the charger left the zone out); now when absent or unreadable."""
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ocpp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(sampled: dict) -> Decimal | None:
    if sampled.get("format") == "SignedData":
        return None
    try:
        value = Decimal(str(sampled.get("value", "")))
    except InvalidOperation:
        return None
    # Without a unit the measurand's base unit (Wh, W, A, V, Percent) is meant.
    factor = UNIT_FACTORS.get(sampled["unit"]) if sampled.get("unit") else 1
    if factor is None or not value.is_finite():
        return None
    return value * factor


def _measurand(sampled: dict) -> str:
    return sampled.get("measurand") or ENERGY


def _pick(values: list[dict], measurand: str, *, combine_phases: Callable[[list[Decimal]], Decimal]) -> Decimal | None:
    """The value of a measurand: the one without a phase, else the phases combined (summed for power, the
    highest for current, the first for voltage). Register and SoC values read at the outlet or the EV count."""
    whole, phases = None, []
    for sampled in values:
        if _measurand(sampled) != measurand or sampled.get("location") in ("Inlet", "Cable"):
            continue
        number = _number(sampled)
        if number is None:
            continue
        if sampled.get("phase") and not str(sampled["phase"]).startswith("N"):
            phases.append(number)
        elif whole is None:
            whole = number
    if whole is not None:
        return whole
    return combine_phases(phases) if phases else None


def samples_of(meter_value: list[dict]) -> list[Sample]:
    """OCPP 1.6 MeterValue entries (snake_case keys) in platform units; entries with nothing usable are left out."""
    samples = []
    for entry in meter_value or []:
        values = entry.get("sampled_value") or []
        energy = _pick(values, ENERGY, combine_phases=sum)
        power = _pick(values, POWER, combine_phases=sum)
        current = _pick(values, CURRENT, combine_phases=max)
        voltage = _pick(values, VOLTAGE, combine_phases=lambda phases: phases[0])
        soc = _pick(values, SOC, combine_phases=lambda phases: phases[0])
        if all(v is None for v in (energy, power, current, voltage, soc)):
            continue
        samples.append(
            Sample(
                ts=parse_time(entry.get("timestamp")),
                energy_wh=int(energy) if energy is not None else None,
                power_w=int(power) if power is not None else None,
                current_a=float(current) if current is not None else None,
                voltage_v=float(voltage) if voltage is not None else None,
                soc_pct=float(soc) if soc is not None else None,
            )
        )
    return samples


def _id_tag_info(answer: TagAnswer) -> dict:
    info: dict[str, Any] = {"status": answer.status}
    if answer.expires_at is not None:
        info["expiry_date"] = _ocpp_time(answer.expires_at)
    return info


def _readable_unique_id(raw: Any) -> str | None:
    """The message id of a frame the `ocpp` package could not unpack, when one can be read."""
    try:
        frame = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not (isinstance(frame, list) and len(frame) >= 2 and isinstance(frame[1], str)):
        return None
    # Answers to our own calls are never answered back.
    return None if frame[0] in (MessageType.CallResult, MessageType.CallError) else frame[1]


def _v16_error(error: OCPPError, *, while_unpacking: bool) -> OCPPError:
    """The `ocpp` package raises OCPP 2.x error codes in places; OCPP 1.6 names them differently."""
    if error.code == "FormatViolation" or (error.code == "ProtocolError" and while_unpacking):
        return FormationViolationError(description=error.description, details=error.details)
    if error.code == "ProtocolError":  # a required field missing from the payload
        return OccurenceConstraintViolationError(description=error.description, details=error.details)
    return error


class _FrameLog(logging.LoggerAdapter):
    """The `ocpp` package logs every frame at INFO; thousands of chargers would flood the log: DEBUG here."""

    def info(self, msg, *args, **kwargs) -> None:
        self.debug(msg, *args, **kwargs)


FRAME_LOG = _FrameLog(logging.getLogger("apps.chargepoints.gateway.frames"), {})


def _unhandled_action(action: str) -> OCPPError:
    """OCPP 1.6 §4.2.3: NotImplemented for an action the receiver does not know, NotSupported for one it knows
    but does not support (the `ocpp` package answers the other way round)."""
    if action in Action._value2member_map_:
        return NotSupportedError(description=f"{action} is not supported by this central system")
    return NotImplementedError(description=f"{action} is not an OCPP 1.6 action")


class V16Handler(ChargePoint):
    """One OCPP 1.6J connection."""

    protocol = PROTOCOL

    def __init__(
        self,
        connection,
        *,
        box: BoxIdentity,
        actions: PlatformActions,
        run: Runner,
        seen: Callable[[str], None],
        response_timeout: float,
        meters: MeterSink | None = None,
    ) -> None:
        super().__init__(box.charge_box_id, connection, response_timeout=response_timeout, logger=FRAME_LOG)
        self.box = box
        self._actions = actions
        self._run = run
        self._seen = seen
        self._meters = meters

    async def route_message(self, raw_msg) -> None:
        self._seen(self.box.charge_box_id)
        try:
            msg = unpack(raw_msg)
        except OCPPError as error:
            unique_id = _readable_unique_id(raw_msg)
            logger.warning("%s: unreadable frame (%s): %.200r", self.id, error.code, raw_msg)
            if unique_id is None:
                # Without a message id there is nothing a CallError could answer; the connection stays.
                return
            frame = Call(unique_id=unique_id, action="", payload={})
            await self._send(frame.create_call_error(_v16_error(error, while_unpacking=True)).to_json())
            return
        if msg.message_type_id == MessageType.Call:
            if not isinstance(msg.payload, dict):
                error = FormationViolationError(description="the payload of a call is a JSON object")
                await self._send(msg.create_call_error(error).to_json())
                return
            if msg.action not in self.route_map:
                await self._send(msg.create_call_error(_unhandled_action(msg.action)).to_json())
                return
            try:
                await self._handle_call(msg)
            except OCPPError as error:
                logger.info("%s: %s refused with %s: %s", self.id, msg.action, error.code, error.description)
                await self._send(msg.create_call_error(_v16_error(error, while_unpacking=False)).to_json())
        elif msg.message_type_id in (MessageType.CallResult, MessageType.CallError):
            self._response_queue.put_nowait(msg)

    # --- charger → central system ---

    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs):
        now = datetime.now(UTC)
        boot = Boot(
            vendor=charge_point_vendor,
            model=charge_point_model,
            firmware_version=kwargs.get("firmware_version") or "",
            serial_number=kwargs.get("charge_point_serial_number") or "",
        )
        interval = await self._run(self._actions.boot, box=self.box, boot=boot, at=now)
        return call_result.BootNotification(
            current_time=_ocpp_time(now), interval=interval, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self):
        # last_seen_at is flushed in batches by the gateway (route_message noted this message).
        return call_result.Heartbeat(current_time=_ocpp_time(datetime.now(UTC)))

    @on(Action.status_notification)
    async def on_status_notification(self, connector_id: int, error_code: str, status: str, **kwargs):
        info = " ".join(filter(None, [kwargs.get("info"), kwargs.get("vendor_id"), kwargs.get("vendor_error_code")]))
        at = parse_time(kwargs.get("timestamp")) if kwargs.get("timestamp") else None
        update = ConnectorStatus(connector_number=connector_id, status=status, error_code=error_code, info=info, at=at)
        await self._run(self._actions.status, box=self.box, status=update)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str):
        answer = await self._run(self._actions.authorize, box=self.box, id_tag=id_tag)
        return call_result.Authorize(id_tag_info=_id_tag_info(answer))

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs):
        start = TransactionStart(
            connector_number=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start,
            started_at=parse_time(timestamp),
            reservation_id=kwargs.get("reservation_id"),
        )
        answer = await self._run(self._actions.start_transaction, box=self.box, start=start)
        return call_result.StartTransaction(transaction_id=answer.transaction_id, id_tag_info=_id_tag_info(answer.tag))

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id: int, meter_value: list, **kwargs):
        meter = Meter(
            connector_number=connector_id,
            transaction_id=kwargs.get("transaction_id"),
            samples=samples_of(meter_value),
        )
        if self._meters is not None:  # stored with the MeterValues of other connections, in one transaction
            await self._meters.add(self.box, meter)
        else:
            await self._run(self._actions.meter_values, box=self.box, meter=meter)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs):
        stop = TransactionStop(
            transaction_id=transaction_id,
            meter_stop_wh=meter_stop,
            stopped_at=parse_time(timestamp),
            reason=kwargs.get("reason") or "",
            id_tag=kwargs.get("id_tag") or "",
            samples=samples_of(kwargs.get("transaction_data") or []),
        )
        answer = await self._run(self._actions.stop_transaction, box=self.box, stop=stop)
        return call_result.StopTransaction(id_tag_info=_id_tag_info(answer) if answer else None)

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **kwargs):
        status = await self._run(
            self._actions.data_transfer,
            box=self.box,
            vendor_id=vendor_id,
            message_id=kwargs.get("message_id") or "",
            data=kwargs.get("data") or "",
        )
        return call_result.DataTransfer(status=DataTransferStatus(status))

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(self, status: str):
        await self._run(self._actions.firmware_status, box=self.box, status=status)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(self, status: str):
        await self._run(self._actions.diagnostics_status, box=self.box, status=status)
        return call_result.DiagnosticsStatusNotification()

    # --- central system → charger ---

    async def send_command(self, action: str, payload: dict) -> tuple[str, dict]:
        """Sends a remote command and waits for the answer: (accepted | rejected | timeout | failed, the answer's
        JSON, or the CallError's)."""
        request_class = getattr(call, action, None)
        if request_class is None:
            return "failed", {"errorCode": "NotSupported", "description": f"{action} is not an OCPP 1.6 call"}
        try:
            request = request_class(**camel_to_snake_case(payload or {}))
        except TypeError as error:
            return "failed", {"errorCode": "FormationViolation", "description": str(error)}
        try:
            answer = await self.call(request, suppress=False)
        except TimeoutError:
            return "timeout", {}
        except OCPPError as error:
            return "failed", {"errorCode": error.code, "description": error.description, "errorDetails": error.details}
        except (ConnectionClosed, UnknownCallErrorCodeError, ValidationError) as error:
            return "failed", {"errorCode": "GenericError", "description": f"{type(error).__name__}: {error}"}
        body = snake_to_camel_case(remove_nones(serialize_as_dict(answer)))
        status = body.get("status")
        return ("accepted" if status in (None, "Accepted") else "rejected"), body


PROTOCOL_MODULES: dict[str, type[V16Handler]] = {PROTOCOL: V16Handler}
"""The subprotocol a charger offers picks its module; one missing here is refused at the handshake."""
