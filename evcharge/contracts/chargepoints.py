"""The OCPP side of chargers: which charger is connected, and the remote commands other contexts send.

A remote command is recorded in the caller's transaction and reaches the charger after commit (through the
gateway instance that holds its connection). Its answer comes back to the asking context through this
context's calls into that context's facade (e.g. a rejected RemoteStartTransaction cancels the pending
session through the reservations facade)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from evcharge.contracts._base import FacadeSlot

COMMAND_ACTIONS = (
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "Reset",
    "ChangeAvailability",
    "UnlockConnector",
    "TriggerMessage",
    "ReserveNow",
    "CancelReservation",
    "ChangeConfiguration",
    "GetConfiguration",
)
COMMAND_STATUSES = ("pending", "sent", "accepted", "rejected", "timeout", "offline", "failed")


@dataclass(frozen=True, kw_only=True)
class OcppLink:
    """A charger's OCPP connection as the platform last saw it."""

    charger_id: UUID
    connected: bool
    last_seen_at: datetime | None
    vendor: str = ""
    model: str = ""
    firmware_version: str = ""
    protocol: str = ""
    """The OCPP subprotocol of the connection ("ocpp1.6"); empty before the first connection."""


class ChargepointsFacade(Protocol):
    def links(self, charger_ids: list[UUID]) -> dict[UUID, OcppLink]:
        """The OCPP link of each of these chargers that has OCPP credentials (others are left out)."""

    def is_online(self, charger_id: UUID) -> bool:
        """True while the charger holds an OCPP connection (within the liveness window)."""

    def remote_start(
        self, *, session_id: UUID, charger_id: UUID, connector_number: int, id_tag: str, requested_by: UUID | None
    ) -> UUID:
        """Records RemoteStartTransaction for a pending session (inside the caller's transaction; sent after
        commit) and returns the command's id. The session is linked when the charger's StartTransaction
        arrives; a rejection, an offline charger or no StartTransaction in time cancels it through
        ReservationsFacade.session_cancel_pending."""

    def remote_stop(self, *, session_id: UUID, requested_by: UUID | None) -> UUID | None:
        """Records RemoteStopTransaction for the OCPP transaction of this session; None when the session
        has no OCPP transaction (a REST charger)."""


_slot: FacadeSlot[ChargepointsFacade] = FacadeSlot("chargepoints")
register = _slot.register
facade = _slot.get
registered = lambda: _slot.registered  # noqa: E731
