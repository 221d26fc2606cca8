"""The platform actions a charger's messages turn into, whatever OCPP version it speaks.

A protocol module (v16.py; a 2.0.1 module later) translates its messages into these calls and their answers back
into its own. `services/connection.py` implements them (and defines the values they carry, so that the services
layer need not import the gateway); each call is synchronous database work the gateway runs off its event loop."""

from datetime import datetime
from typing import Protocol

from apps.chargepoints.services.connection import (
    Boot,
    BoxIdentity,
    ConnectorStatus,
    Meter,
    Sample,
    TagAnswer,
    TransactionStart,
    TransactionStartAnswer,
    TransactionStop,
)

__all__ = [
    "Boot",
    "BoxIdentity",
    "ConnectorStatus",
    "Meter",
    "PlatformActions",
    "Sample",
    "TagAnswer",
    "TransactionStart",
    "TransactionStartAnswer",
    "TransactionStop",
]


class PlatformActions(Protocol):
    """What a charger can ask of the platform. Every method is synchronous and runs off the event loop."""

    def connected(self, *, box: BoxIdentity, instance_id: str, protocol: str, at: datetime) -> None: ...

    def disconnected(self, *, box: BoxIdentity, instance_id: str, at: datetime) -> None: ...

    def boot(self, *, box: BoxIdentity, boot: Boot, at: datetime) -> int:
        """Records the boot data; returns the heartbeat interval (seconds) the charger is to use."""

    def heartbeats(self, *, seen: dict[str, datetime]) -> None:
        """last_seen_at of many charge boxes at once (the gateway batches heartbeats)."""

    def status(self, *, box: BoxIdentity, status: ConnectorStatus) -> None: ...

    def authorize(self, *, box: BoxIdentity, id_tag: str) -> TagAnswer: ...

    def start_transaction(self, *, box: BoxIdentity, start: TransactionStart) -> TransactionStartAnswer: ...

    def meter_values(self, *, box: BoxIdentity, meter: Meter) -> None: ...

    def meter_values_many(self, *, items: list[tuple[BoxIdentity, Meter]]) -> None:
        """The MeterValues of many connections at once, in one transaction (the gateway's MeterBatcher)."""

    def stop_transaction(self, *, box: BoxIdentity, stop: TransactionStop) -> TagAnswer | None:
        """Completes the session of the transaction; None when the stop carried no idTag to answer about."""

    def data_transfer(self, *, box: BoxIdentity, vendor_id: str, message_id: str, data: str) -> str:
        """The DataTransfer status: UnknownVendorId for every vendor today."""

    def firmware_status(self, *, box: BoxIdentity, status: str) -> None: ...

    def diagnostics_status(self, *, box: BoxIdentity, status: str) -> None: ...
