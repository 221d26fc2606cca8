from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot, event_contract

CONNECTOR_TYPES = ("CCS1", "CCS2", "CHADEMO", "TYPE1", "TYPE2", "NACS", "GBT")
CONNECTOR_STATUSES = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEVSE",
    "SuspendedEV",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)
STATION_STATUSES = ("available", "occupied", "faulted", "unavailable")
"""A station's status, derived from its connectors' (see StationCreated.status)."""


@dataclass(frozen=True, kw_only=True)
class ConnectorInfo:
    connector_id: UUID
    number: int
    type: str
    max_power_kw: float
    status: str
    code: str


@dataclass(frozen=True, kw_only=True)
class ChargerInfo:
    charger_id: UUID
    serial: str
    max_power_kw: float
    connectors: list[ConnectorInfo]


@dataclass(frozen=True, kw_only=True)
class Location:
    latitude: float
    longitude: float
    address: str = ""


@event_contract
@dataclass(frozen=True, kw_only=True)
class StationCreated:
    TYPE: ClassVar[str] = "station.created.v1"
    SOURCE: ClassVar[str] = "/evcharge/stations"
    station_id: UUID
    operator_id: UUID
    name: str
    timezone: str
    location: Location
    chargers: list[ChargerInfo]
    enabled: bool = True
    reservable: bool = True
    status: str = "unavailable"
    """Derived from the connectors: available | occupied | faulted | unavailable (see the OpenAPI schema)."""
    version: int = 0
    """The station's version, one sequence for station.created/updated/status_changed.v1: bumped in the
    transaction of each change it publishes; a consumer keeps the highest it has seen and ignores an older copy
    arriving later. 0: published before versions existed (applied as before)."""


@event_contract
@dataclass(frozen=True, kw_only=True)
class StationUpdated:
    """Station or charger data changed. `changed` names the fields that changed; the rest is the full
    current state, so a consumer can upsert without having seen station.created.v1."""

    TYPE: ClassVar[str] = "station.updated.v1"
    SOURCE: ClassVar[str] = "/evcharge/stations"
    station_id: UUID
    operator_id: UUID
    changed: list[str]
    name: str
    timezone: str
    location: Location
    chargers: list[ChargerInfo]
    enabled: bool = True
    reservable: bool = True
    status: str = "unavailable"
    version: int = 0
    """The station's version, one sequence for station.created/updated/status_changed.v1: bumped in the
    transaction of each change it publishes; a consumer keeps the highest it has seen and ignores an older copy
    arriving later. 0: published before versions existed (applied as before)."""


@event_contract
@dataclass(frozen=True, kw_only=True)
class StationStatusChanged:
    TYPE: ClassVar[str] = "station.status_changed.v1"
    SOURCE: ClassVar[str] = "/evcharge/stations"
    station_id: UUID
    charger_id: UUID
    connector_id: UUID
    connector_type: str
    old_status: str
    new_status: str
    changed_at: datetime
    reason: str = ""
    """Why: "api" (PUT by the operator or charger), "session.started", "session.completed", "admin", ..."""
    station_status: str = ""
    """The station's derived status after the change."""
    version: int = 0
    """The station's version, one sequence for station.created/updated/status_changed.v1: bumped in the
    transaction of each change it publishes; a consumer keeps the highest it has seen and ignores an older copy
    arriving later. 0: published before versions existed (applied as before)."""


@dataclass(frozen=True, kw_only=True)
class ConnectorView:
    connector_id: UUID
    charger_id: UUID
    station_id: UUID
    operator_id: UUID
    type: str
    max_power_kw: float
    status: str
    code: str
    station_timezone: str = "UTC"
    extra: dict = field(default_factory=dict)
    number: int = 0
    station_name: str = ""
    station_enabled: bool = True
    """False while the station is disabled (station.config.updated.v1); `status` then reads Unavailable."""
    reservable: bool = True
    """The station's `reservable` setting (station.config.updated.v1)."""
    ocpp_status: str = ""
    """The connector's own OCPP status, whatever the station's `enabled` flag says."""
    station_address: str = ""


@dataclass(frozen=True, kw_only=True)
class ChargerView:
    charger_id: UUID
    serial: str
    """The charger's serial: its OCPP charge box id."""
    station_id: UUID
    operator_id: UUID
    max_power_kw: float
    connectors: list[ConnectorInfo]
    station_enabled: bool = True


class StationsFacade(Protocol):
    """Connectors for the other contexts. Nobody needs to call set_connector_status for charging
    sessions: the stations context follows session.started.v1 (-> Charging) and session.stopped.v1 /
    session.completed.v1 (-> Finishing -> Available) itself; reservations do not change a connector's status."""

    def connector(self, connector_id: UUID) -> ConnectorView | None: ...

    def connector_by_code(self, code: str) -> ConnectorView | None: ...

    def charger(self, charger_id: UUID) -> ChargerView | None: ...

    def charger_by_serial(self, serial: str) -> ChargerView | None:
        """The charger whose serial is this OCPP charge box id."""

    def chargers_of_station(self, station_id: UUID) -> list[ChargerView]: ...

    def set_connector_status(self, *, connector_id: UUID, status: str, reason: str = "") -> None:
        """Moves a connector to an OCPP status (publishing station.status_changed.v1 if it changed).
        Must be called inside the caller's transaction."""


_slot: FacadeSlot[StationsFacade] = FacadeSlot("stations")
register = _slot.register
facade = _slot.get
