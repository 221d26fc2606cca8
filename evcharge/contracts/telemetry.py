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


@dataclass(frozen=True, kw_only=True)
class MeterReading:
    connector_id: UUID
    energy_wh: int
    ts: datetime
    power_w: int | None = None


class TelemetryFacade(Protocol):
    def last_meter_reading(self, *, connector_id: UUID) -> MeterReading | None:
        """The connector's latest meter reading (cumulative Wh), or None if none is known."""

    def first_meter_reading(self, *, connector_id: UUID, since: datetime) -> MeterReading | None:
        """The connector's earliest meter reading taken at or after `since`, or None if none is known."""


_slot: FacadeSlot[TelemetryFacade] = FacadeSlot("telemetry")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731
