from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot, event_contract

MAX_METER_WH = 10**12
"""The largest cumulative meter reading (Wh) any context accepts: 1 TWh, far beyond a charger's lifetime."""


@event_contract
@dataclass(frozen=True, kw_only=True)
class TelemetryIngested:
    TYPE: ClassVar[str] = "telemetry.ingested.v1"
    SOURCE: ClassVar[str] = "/evcharge/telemetry"
    batch_id: UUID
    charger_ids: list[UUID]
    connector_ids: list[UUID]
    count: int
    first_ts: datetime
    last_ts: datetime


@event_contract
@dataclass(frozen=True, kw_only=True)
class ChargerHealthChanged:
    TYPE: ClassVar[str] = "charger.health_changed.v1"
    SOURCE: ClassVar[str] = "/evcharge/telemetry"
    charger_id: UUID
    station_id: UUID
    old_health: str
    new_health: str
    reason: str
    changed_at: datetime
    version: int = 0
    """The charger's health version: bumped in the transaction of each change
    it publishes; a consumer keeps the highest it has seen and ignores an older copy arriving later. 0: published
    before versions existed (applied as before)."""


@dataclass(frozen=True, kw_only=True)
class MeterReading:
    connector_id: UUID
    energy_wh: int
    ts: datetime
    power_w: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChargerSample:
    """One sampled value set from a charger (an OCPP MeterValues entry), already authenticated by the gateway."""

    connector_id: UUID | None
    ts: datetime
    energy_wh: int | None = None
    power_w: int | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    soc_pct: float | None = None


class TelemetryFacade(Protocol):
    def last_meter_reading(self, *, connector_id: UUID) -> MeterReading | None:
        """The connector's latest meter reading (cumulative Wh), or None if none is known."""

    def first_meter_reading(self, *, connector_id: UUID, since: datetime) -> MeterReading | None:
        """The connector's earliest meter reading taken at or after `since`, or None if none is known."""

    def record_charger_samples(self, *, charger_id: UUID, samples: list[ChargerSample]) -> None:
        """Stores readings a charger sent over OCPP (trusted: the gateway authenticated the charger), with the
        same effects as the telemetry API (telemetry.ingested.v1, meter state, health)."""

    def record_charger_samples_many(self, *, batches: dict[UUID, list[ChargerSample]]) -> None:
        """The samples of many chargers (charger id -> samples) in one ingest: one transaction, one
        telemetry.ingested.v1. Values telemetry cannot take (unknown charger, out of range) are dropped."""

    def record_charger_fault(
        self, *, charger_id: UUID, connector_id: UUID | None, error_code: str, info: str, at: datetime
    ) -> None:
        """A fault the charger reported (OCPP StatusNotification errorCode other than NoError)."""

    def record_charger_link(self, *, charger_id: UUID, connected: bool, at: datetime) -> None:
        """The charger's OCPP link came up or went down (past the liveness window): its health follows
        (charger.health_changed.v1 once per real change)."""


_slot: FacadeSlot[TelemetryFacade] = FacadeSlot("telemetry")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731
