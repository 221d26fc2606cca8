from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot, event_contract


@event_contract
@dataclass(frozen=True, kw_only=True)
class ConfigChanged:
    TYPE: ClassVar[str] = "config.changed.v1"
    SOURCE: ClassVar[str] = "/evcharge/adminconfig"
    key: str
    old_value: Any
    new_value: Any
    version: int
    changed_by: UUID | None
    changed_at: datetime


@dataclass(frozen=True, kw_only=True)
class StationSettings:
    enabled: bool
    reservable: bool
    max_power_kw: float | None
    rate_plan_id: UUID | None
    idle_grace_min: int | None


@event_contract
@dataclass(frozen=True, kw_only=True)
class StationConfigUpdated:
    TYPE: ClassVar[str] = "station.config.updated.v1"
    SOURCE: ClassVar[str] = "/evcharge/adminconfig"
    station_id: UUID
    operator_id: UUID
    settings: StationSettings
    changed: list[str]
    version: int = 0
    """The station settings' version: bumped in the transaction of each change
    it publishes; a consumer keeps the highest it has seen and ignores an older copy arriving later. 0: published
    before versions existed (applied as before)."""


class AdminConfigFacade(Protocol):
    def is_enabled(self, name: str, default: bool = False) -> bool:
        """The feature flag `flags.<name>`, from an in-process cache kept fresh by config.changed.v1."""

    def get_value(self, key: str, default: Any = None) -> Any: ...


_slot: FacadeSlot[AdminConfigFacade] = FacadeSlot("adminconfig")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731


def is_enabled(name: str, default: bool = False) -> bool:
    """Ask a feature flag; the default holds when the adminconfig context is not installed."""
    return facade().is_enabled(name, default) if registered() else default
