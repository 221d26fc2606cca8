from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from evcharge.contracts._base import event_contract
from evcharge.contracts.pricing import TariffSnapshot


@event_contract
@dataclass(frozen=True, kw_only=True)
class ReservationCreated:
    TYPE: ClassVar[str] = "reservation.created.v1"
    SOURCE: ClassVar[str] = "/evcharge/reservations"
    reservation_id: UUID
    connector_id: UUID
    station_id: UUID
    user_id: UUID
    starts_at: datetime
    ends_at: datetime


@event_contract
@dataclass(frozen=True, kw_only=True)
class ReservationCancelled:
    TYPE: ClassVar[str] = "reservation.cancelled.v1"
    SOURCE: ClassVar[str] = "/evcharge/reservations"
    reservation_id: UUID
    connector_id: UUID
    station_id: UUID
    user_id: UUID
    cancelled_by: UUID | None


@event_contract
@dataclass(frozen=True, kw_only=True)
class ReservationExpired:
    TYPE: ClassVar[str] = "reservation.expired.v1"
    SOURCE: ClassVar[str] = "/evcharge/reservations"
    reservation_id: UUID
    connector_id: UUID
    station_id: UUID
    user_id: UUID


@event_contract
@dataclass(frozen=True, kw_only=True)
class SessionStarted:
    TYPE: ClassVar[str] = "session.started.v1"
    SOURCE: ClassVar[str] = "/evcharge/reservations"
    session_id: UUID
    connector_id: UUID
    station_id: UUID
    user_id: UUID
    operator_id: UUID
    connector_type: str
    reservation_id: UUID | None
    meter_start_wh: int
    """The charger's last reading at start; 0 when none was known yet (session.completed.v1 then carries the
    start meter the energy was computed from: the charger's first reading of the session)."""
    started_at: datetime
    tariff: TariffSnapshot


@event_contract
@dataclass(frozen=True, kw_only=True)
class SessionStopped:
    """The session ended (the connector is free). Its energy may still be unknown: session.completed.v1
    follows once the charger's reading is known (at once when it already is), or staff settle it."""

    TYPE: ClassVar[str] = "session.stopped.v1"
    SOURCE: ClassVar[str] = "/evcharge/reservations"
    session_id: UUID
    connector_id: UUID
    station_id: UUID
    user_id: UUID
    operator_id: UUID
    ended_at: datetime
    energy_status: str
    """`metered` (the charger's reading is known; session.completed.v1 is published with this event) or
    `awaiting_meter`."""


@event_contract
@dataclass(frozen=True, kw_only=True)
class SessionCompleted:
    TYPE: ClassVar[str] = "session.completed.v1"
    SOURCE: ClassVar[str] = "/evcharge/reservations"
    session_id: UUID
    connector_id: UUID
    station_id: UUID
    user_id: UUID
    operator_id: UUID
    connector_type: str
    reservation_id: UUID | None
    meter_start_wh: int
    meter_stop_wh: int
    energy_wh: int
    energy_source: str = "meter"
    """`meter`: the charger's readings; `settled`: set by staff when the charger never reported one."""
    started_at: datetime
    ended_at: datetime
    charging_ended_at: datetime | None
    """When energy stopped flowing (last meter increase); the idle fee counts from here. None = ended_at."""
    tariff: TariffSnapshot
