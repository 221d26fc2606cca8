from dataclasses import dataclass
from datetime import datetime
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


ID_TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
"""OCPP 1.6 AuthorizationStatus values an RFID tag can have (ConcurrentTx is decided by the session, not the tag)."""


@dataclass(frozen=True, kw_only=True)
class IdTagInfo:
    status: str
    """One of ID_TAG_STATUSES; an unknown tag is Invalid."""
    user_id: UUID | None = None
    expires_at: datetime | None = None


class IdentityFacade(Protocol):
    def authenticate_api_key(self, raw_key: str) -> Actor | None:
        """The actor an API key stands for, or None when unknown or revoked."""

    def operator_exists(self, operator_id: UUID) -> bool: ...

    def authorize_id_tag(self, id_tag: str) -> IdTagInfo:
        """What an RFID tag (or a platform-issued tag) stands for; unknown tags are Invalid."""

    def guest_driver_create(self) -> UUID:
        """A new driver identity for one guest checkout: no password, no e-mail of anyone's (the receipt address
        stays with the caller), never the account of whoever owns the address the guest typed."""

    def id_tag_for_user(self, user_id: UUID) -> str:
        """The user's tag for remote starts: their first active tag, else a platform-issued one (created on
        first use, inside the caller's transaction)."""

    def guest_driver_retire(self, user_id: UUID) -> None:
        """A guest identity whose one checkout ended before its session started: its tags are blocked, so a
        charger's late StartTransaction with them starts nothing (inside the caller's transaction). Idempotent;
        a registered driver's tags are left as they are."""


_slot: FacadeSlot[IdentityFacade] = FacadeSlot("identity")
register = _slot.register
facade = _slot.get
