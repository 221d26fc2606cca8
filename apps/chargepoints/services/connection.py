"""The connection side of the OCPP gateway: what a charger's messages do to the platform.

`ConnectionActions` implements the platform actions (gateway/actions.py) for every protocol module; the values
they carry are defined here so that this layer does not import the gateway. Every function is synchronous
database work: the gateway runs it off its event loop."""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.chargepoints import selectors
from apps.chargepoints.models import ChargeBox, OcppTransaction
from evcharge.contracts import adminconfig, identity, reservations, stations, telemetry
from evcharge.contracts.reservations import ChargerStart
from evcharge.contracts.telemetry import MAX_METER_WH, ChargerSample
from evcharge.errors import DomainError

logger = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL_S = 300
CONNECTOR_MAP_TTL_S = 60.0
UNKNOWN_CONNECTOR = "unknown_connector"
SESSION_REFUSAL_ANSWERS = {"driver_busy": "ConcurrentTx"}
"""A refusal of the reservations context and the idTagInfo status it answers; any other refusal is Invalid
(the tag may be fine, but no session can bill this transaction, so the charger is told not to charge)."""


@dataclass(frozen=True, kw_only=True)
class BoxIdentity:
    """The charge box a connection belongs to (resolved at the handshake)."""

    charger_id: UUID
    charge_box_id: str


@dataclass(frozen=True, kw_only=True)
class Boot:
    vendor: str
    model: str
    firmware_version: str = ""
    serial_number: str = ""


@dataclass(frozen=True, kw_only=True)
class ConnectorStatus:
    connector_number: int
    status: str
    """The OCPP connector status (Available, Preparing, Charging, ... Faulted)."""
    error_code: str = "NoError"
    info: str = ""
    at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class TagAnswer:
    status: str
    """Accepted | Blocked | Expired | Invalid | ConcurrentTx"""
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class TransactionStart:
    connector_number: int
    id_tag: str
    meter_start_wh: int
    started_at: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class TransactionStartAnswer:
    transaction_id: int
    tag: TagAnswer


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One sampled value set, already converted to platform units (Wh, W, A, V, %)."""

    ts: datetime
    energy_wh: int | None = None
    power_w: int | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    soc_pct: float | None = None


@dataclass(frozen=True, kw_only=True)
class Meter:
    connector_number: int
    transaction_id: int | None = None
    samples: list[Sample] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class TransactionStop:
    transaction_id: int
    meter_stop_wh: int
    stopped_at: datetime
    reason: str = ""
    id_tag: str = ""
    samples: list[Sample] = field(default_factory=list)


class HandshakeRefused(Exception):
    """The handshake is refused: `status` is the HTTP status (401 wrong or missing password, 404 unknown box)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def charge_box_authenticate(*, charge_box_id: str, password: str | None, allow_unsecured: bool) -> BoxIdentity:
    """The charge box a handshake is for (security profile 1: Basic auth, user = charge box id); raises
    HandshakeRefused. With `allow_unsecured` (profile 0, development only) a box without a password may connect
    without one; a box with a password always needs it."""
    box = selectors.charge_box_by_identity(charge_box_id)
    if box is None:
        raise HandshakeRefused(404, "unknown charge box")
    if not box.password_hash:
        if not allow_unsecured:
            raise HandshakeRefused(401, "no OCPP password set for this charge box")
    elif password is None or not _password_matches(box, password):
        raise HandshakeRefused(401, "wrong or missing password")
    return BoxIdentity(charger_id=box.id, charge_box_id=box.charge_box_id)


def _password_matches(box: ChargeBox, password: str) -> bool:
    from apps.chargepoints.services.credentials import password_matches  # the credentials' owner: h2

    return password_matches(box, password)


def charge_boxes_release_instance(*, instance_id: str) -> int:
    """A gateway instance (re)starts: the boxes it held before a crash are disconnected. Returns how many."""
    now = timezone.now()
    released = 0
    for box in selectors.charge_boxes_held_by(instance_id):
        with transaction.atomic():
            updated = ChargeBox.objects.filter(id=box.id, gateway_instance=instance_id, connected=True).update(
                connected=False, disconnected_at=now
            )
            if updated:
                _record_link(box.id, connected=False, at=now)
                released += 1
    return released


def charge_boxes_seen(*, charge_box_ids: list[str], at: datetime) -> int:
    """last_seen_at of the boxes whose links are alive, in one UPDATE (the gateway batches them)."""
    if not charge_box_ids:
        return 0
    return ChargeBox.objects.filter(charge_box_id__in=charge_box_ids).update(last_seen_at=at)


def _record_link(charger_id: UUID, *, connected: bool, at: datetime) -> None:
    if telemetry.registered():
        telemetry.facade().record_charger_link(charger_id=charger_id, connected=connected, at=at)


class _ConnectorMap:
    """Connector number → connector id of each charger, cached briefly (chargers rarely change their connectors,
    and MeterValues arrive often)."""

    def __init__(self) -> None:
        self._entries: dict[UUID, tuple[float, dict[int, UUID]]] = {}

    def connector_id(self, charger_id: UUID, number: int) -> UUID | None:
        if number <= 0:
            return None
        entry = self._entries.get(charger_id)
        if entry is None or entry[0] < time.monotonic() or number not in entry[1]:
            charger = stations.facade().charger(charger_id)
            numbers = {c.number: c.connector_id for c in charger.connectors} if charger else {}
            self._entries[charger_id] = (time.monotonic() + CONNECTOR_MAP_TTL_S, numbers)
            return numbers.get(number)
        return entry[1][number]


def _tag_answer(info) -> TagAnswer:
    return TagAnswer(status=info.status, expires_at=info.expires_at)


def _charger_samples(connector_id: UUID | None, samples: list[Sample]) -> list[ChargerSample]:
    return [
        ChargerSample(
            connector_id=connector_id,
            ts=s.ts,
            energy_wh=s.energy_wh if s.energy_wh is not None and 0 <= s.energy_wh <= MAX_METER_WH else None,
            power_w=s.power_w,
            current_a=s.current_a,
            voltage_v=s.voltage_v,
            soc_pct=s.soc_pct,
        )
        for s in samples
    ]


class ConnectionActions:
    """The platform actions (gateway/actions.py PlatformActions) over the other contexts' facades."""

    def __init__(self) -> None:
        self._connectors = _ConnectorMap()

    def connected(self, *, box: BoxIdentity, instance_id: str, protocol: str, at: datetime) -> None:
        with transaction.atomic():
            ChargeBox.objects.filter(id=box.charger_id).update(
                connected=True, gateway_instance=instance_id, protocol=protocol, connected_at=at, last_seen_at=at
            )
            _record_link(box.charger_id, connected=True, at=at)

    def disconnected(self, *, box: BoxIdentity, instance_id: str, at: datetime) -> None:
        with transaction.atomic():
            # Only while this instance still holds it: the charger may already be back on another instance.
            updated = ChargeBox.objects.filter(id=box.charger_id, gateway_instance=instance_id, connected=True).update(
                connected=False, disconnected_at=at
            )
            if updated:
                _record_link(box.charger_id, connected=False, at=at)

    def boot(self, *, box: BoxIdentity, boot: Boot, at: datetime) -> int:
        ChargeBox.objects.filter(id=box.charger_id).update(
            vendor=boot.vendor[:50],
            model=boot.model[:50],
            firmware_version=boot.firmware_version[:50],
            serial_number=boot.serial_number[:50],
            booted_at=at,
            last_seen_at=at,
        )
        interval = DEFAULT_HEARTBEAT_INTERVAL_S
        if adminconfig.registered():
            interval = adminconfig.facade().get_value("ocpp.heartbeat_interval_s", DEFAULT_HEARTBEAT_INTERVAL_S)
        try:
            return max(1, int(interval))
        except (TypeError, ValueError):
            return DEFAULT_HEARTBEAT_INTERVAL_S

    def heartbeats(self, *, seen: dict[str, datetime]) -> None:
        if seen:
            charge_boxes_seen(charge_box_ids=list(seen), at=max(seen.values()))

    def status(self, *, box: BoxIdentity, status: ConnectorStatus) -> None:
        at = status.at or timezone.now()
        with transaction.atomic():
            connector_id = None
            if status.connector_number == 0:
                ChargeBox.objects.filter(id=box.charger_id).update(
                    status=status.status[:20], error_code=status.error_code[:50]
                )
            else:
                connector_id = self._connectors.connector_id(box.charger_id, status.connector_number)
                if connector_id is None:
                    logger.warning("%s: status for unknown connector %s", box.charge_box_id, status.connector_number)
                else:
                    stations.facade().set_connector_status(
                        connector_id=connector_id, status=status.status, reason="ocpp"
                    )
            if status.error_code and status.error_code != "NoError" and telemetry.registered():
                telemetry.facade().record_charger_fault(
                    charger_id=box.charger_id,
                    connector_id=connector_id,
                    error_code=status.error_code,
                    info=status.info,
                    at=at,
                )

    def authorize(self, *, box: BoxIdentity, id_tag: str) -> TagAnswer:
        return _tag_answer(identity.facade().authorize_id_tag(id_tag))

    def start_transaction(self, *, box: BoxIdentity, start: TransactionStart) -> TransactionStartAnswer:
        with transaction.atomic():
            # One start at a time per charge box: a replay racing its original finds the first row.
            charge_box = ChargeBox.objects.select_for_update().get(id=box.charger_id)
            replay = selectors.transaction_replay(
                charge_box_id=charge_box.id,
                connector_number=start.connector_number,
                id_tag=start.id_tag,
                started_at=start.started_at,
                meter_start_wh=start.meter_start_wh,
            )
            if replay is not None:
                return TransactionStartAnswer(transaction_id=replay.id, tag=self._replay_answer(replay))
            info = identity.facade().authorize_id_tag(start.id_tag)
            connector_id = self._connectors.connector_id(box.charger_id, start.connector_number)
            session_id, refusal = None, ""
            if info.status != "Accepted":
                refusal = info.status
            elif connector_id is None or info.user_id is None:
                refusal = UNKNOWN_CONNECTOR
            else:
                session_id, refusal = self._session_start(connector_id, info.user_id, start)
            row = OcppTransaction.objects.create(
                charge_box=charge_box,
                connector_number=start.connector_number,
                connector_id=connector_id,
                id_tag=start.id_tag,
                user_id=info.user_id,
                session_id=session_id,
                reservation_ocpp_id=start.reservation_id,
                meter_start_wh=start.meter_start_wh,
                started_at=start.started_at,
                refusal=refusal[:40] if session_id is None else "",
            )
        if session_id is None:
            logger.info("%s: transaction %s started without a session (%s)", box.charge_box_id, row.id, refusal)
        return TransactionStartAnswer(transaction_id=row.id, tag=self._replay_answer(row, expires_at=info.expires_at))

    @staticmethod
    def _session_start(connector_id: UUID, user_id: UUID, start: TransactionStart) -> tuple[UUID | None, str]:
        """The session the transaction bills, or why there is none: the answer must carry a transactionId
        whatever the reservations context says, so its refusals (returned or raised) become a refusal."""
        charger_start = ChargerStart(
            connector_id=connector_id,
            user_id=user_id,
            meter_start_wh=start.meter_start_wh,
            started_at=start.started_at,
        )
        try:
            with transaction.atomic():
                result = reservations.facade().session_start_from_charger(charger_start)
        except DomainError as error:
            return None, getattr(error, "code", "") or type(error).__name__
        return result.session_id, result.refusal

    @staticmethod
    def _replay_answer(row: OcppTransaction, expires_at: datetime | None = None) -> TagAnswer:
        if not row.refusal:
            return TagAnswer(status="Accepted", expires_at=expires_at)
        if row.refusal in identity.ID_TAG_STATUSES:
            return TagAnswer(status=row.refusal)
        return TagAnswer(status=SESSION_REFUSAL_ANSWERS.get(row.refusal, "Invalid"))

    def meter_values(self, *, box: BoxIdentity, meter: Meter) -> None:
        if not meter.samples or not telemetry.registered():
            return
        connector_id = self._connectors.connector_id(box.charger_id, meter.connector_number)
        with transaction.atomic():
            telemetry.facade().record_charger_samples(
                charger_id=box.charger_id, samples=_charger_samples(connector_id, meter.samples)
            )

    def meter_values_many(self, *, items: list[tuple[BoxIdentity, Meter]]) -> None:
        if not telemetry.registered():
            return
        batches: dict = {}
        for box, meter in items:
            if meter.samples:
                connector_id = self._connectors.connector_id(box.charger_id, meter.connector_number)
                batches.setdefault(box.charger_id, []).extend(_charger_samples(connector_id, meter.samples))
        if batches:
            with transaction.atomic():
                telemetry.facade().record_charger_samples_many(batches=batches)

    def stop_transaction(self, *, box: BoxIdentity, stop: TransactionStop) -> TagAnswer | None:
        with transaction.atomic():
            row = (
                OcppTransaction.objects.select_for_update()
                .filter(id=stop.transaction_id, charge_box_id=box.charger_id)
                .first()
            )
            if row is None or row.stopped_at is not None:
                # A charger replaying its queue after being offline: answered Accepted, nothing changes.
                logger.info("%s: StopTransaction %s repeated or unknown", box.charge_box_id, stop.transaction_id)
            else:
                if stop.samples and telemetry.registered():
                    telemetry.facade().record_charger_samples(
                        charger_id=box.charger_id, samples=_charger_samples(row.connector_id, stop.samples)
                    )
                row.meter_stop_wh = stop.meter_stop_wh
                row.stopped_at = stop.stopped_at
                row.stop_reason = stop.reason[:30]
                row.save(update_fields=["meter_stop_wh", "stopped_at", "stop_reason"])
                if row.session_id is not None:
                    reservations.facade().session_stop_from_charger(
                        session_id=row.session_id, meter_stop_wh=stop.meter_stop_wh, stopped_at=stop.stopped_at
                    )
        if not stop.id_tag:
            return None
        return self.authorize(box=box, id_tag=stop.id_tag)

    def data_transfer(self, *, box: BoxIdentity, vendor_id: str, message_id: str, data: str) -> str:
        logger.info("%s: DataTransfer from %r (%r) answered UnknownVendorId", box.charge_box_id, vendor_id, message_id)
        return "UnknownVendorId"

    def firmware_status(self, *, box: BoxIdentity, status: str) -> None:
        ChargeBox.objects.filter(id=box.charger_id).update(firmware_status=status[:40])

    def diagnostics_status(self, *, box: BoxIdentity, status: str) -> None:
        ChargeBox.objects.filter(id=box.charger_id).update(diagnostics_status=status[:40])
