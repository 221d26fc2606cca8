from dataclasses import dataclass
from typing import ClassVar, Protocol
from uuid import UUID

from evcharge.actor import Actor
from evcharge.contracts._base import FacadeSlot, event_contract


@event_contract
@dataclass(frozen=True, kw_only=True)
class UserCreated:
    TYPE: ClassVar[str] = "user.created.v1"
    SOURCE: ClassVar[str] = "/evcharge/identity"
    user_id: UUID
    role: str


class IdentityFacade(Protocol):
    def authenticate_api_key(self, raw_key: str) -> Actor | None:
        """The actor an API key stands for, or None when unknown or revoked."""

    def operator_exists(self, operator_id: UUID) -> bool: ...


_slot: FacadeSlot[IdentityFacade] = FacadeSlot("identity")
register = _slot.register
facade = _slot.get
