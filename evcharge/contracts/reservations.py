from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot, event_contract
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


@dataclass(frozen=True, kw_only=True)
class ChargerStart:
    """What the charger's StartTransaction says (its meter and clock are trusted for the session)."""

    connector_id: UUID
    user_id: UUID
    meter_start_wh: int
    started_at: datetime
    reservation_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class ChargerStartResult:
    session_id: UUID | None
    """The session the transaction belongs to; None when none could start (see `refusal`)."""
    refusal: str = ""
    """Why no session started, the code of the 409 the API would give: "driver_busy" (answered ConcurrentTx),
    "connector_busy", "connector_out_of_service", "station_disabled", "no_tariff", "reservation_*", or
    "connector_unknown". Empty when a session started or was linked."""


@dataclass(frozen=True, kw_only=True)
class SessionLive:
    """A session as its driver sees it while it runs and after: the same figures as GET /api/v1/sessions/{id}."""

    session_id: UUID
    user_id: UUID
    connector_id: UUID
    station_id: UUID
    status: str  # pending | active | completed | cancelled
    energy_status: str  # running | metered | awaiting_meter | settled
    started_at: datetime
    ended_at: datetime | None
    energy_wh: int | None
    """Energy so far (the charger's latest reading) while active; the billed energy once completed."""
    cost_so_far: int | None
    """Minor units of the tariff's currency: energy, time and session fee so far (idle fees are on the invoice)."""
    tariff: TariffSnapshot
    cancel_reason: str = ""
    stop_requested: bool = False
    """A remote stop went to the charger; the session completes on its StopTransaction."""


class ReservationsFacade(Protocol):
    """What the OCPP gateway (chargepoints) and the driver's web pages (driverweb) ask of sessions. Each call runs
    in the caller's transaction."""

    def session_start_for(self, *, user_id: UUID, connector_id: UUID) -> SessionLive:
        """Starts a session for the driver as POST /api/v1/sessions does (every rule alike: connector busy, driver
        busy, station disabled, charger offline; a remote start on an OCPP charger, then `pending`). Raises the
        same Conflict/NotFound/BusinessRuleViolation errors the API answers with."""

    def connector_start_refusal(self, connector_id: UUID) -> str:
        """Why session_start_for would refuse the connector now: the code of its 409 ("station_disabled",
        "connector_out_of_service", "charger_offline", "connector_busy"), "connector_unknown", or "" when a
        session could start. For a page to offer no start; the start itself still decides."""

    def session_live(self, session_id: UUID) -> SessionLive | None: ...

    def session_stop_for(self, *, session_id: UUID, user_id: UUID) -> SessionLive:
        """Stops the driver's session as POST /api/v1/sessions/{id}/stop does with an empty body (no meter
        value: the energy is the charger's). Raises NotFound for a session of someone else."""

    def sessions_of(self, user_id: UUID, *, limit: int = 50) -> list[SessionLive]:
        """The driver's sessions, newest first."""

    def session_start_from_charger(self, start: ChargerStart) -> ChargerStartResult:
        """Links the charger's transaction to the user's pending remote-start session on that connector (one
        session, not two), or starts a new session (the reservation when reservation_id matches)."""

    def session_stop_from_charger(self, *, session_id: UUID, meter_stop_wh: int, stopped_at: datetime) -> None:
        """Completes the session with the charger's stop meter; a session already stopped is left as it is."""

    def session_cancel_pending(self, *, session_id: UUID, reason: str) -> None:
        """Cancels a pending remote-start session (rejected, charger offline, no StartTransaction in time);
        a session no longer pending is left as it is."""


_slot: FacadeSlot[ReservationsFacade] = FacadeSlot("reservations")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731
