"""Reads of the chargepoints context."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from apps.chargepoints.models import ChargeBox, OcppTransaction, RemoteCommand


def charge_box_by_identity(charge_box_id: str) -> ChargeBox | None:
    """The charge box a charger connects as (its OCPP identity, the charger's serial)."""
    return ChargeBox.objects.filter(charge_box_id=charge_box_id).first()


def charge_boxes_held_by(instance_id: str) -> list[ChargeBox]:
    return list(ChargeBox.objects.filter(gateway_instance=instance_id, connected=True))


def charge_boxes(charger_ids: Iterable[UUID]) -> list[ChargeBox]:
    return list(ChargeBox.objects.filter(id__in=list(charger_ids)))


def transaction_replay(
    *, charge_box_id: UUID, connector_number: int, id_tag: str, started_at: datetime, meter_start_wh: int
) -> OcppTransaction | None:
    """The transaction a repeated StartTransaction (same connector, idTag, timestamp and meterStart) already got."""
    return OcppTransaction.objects.filter(
        charge_box_id=charge_box_id,
        connector_number=connector_number,
        id_tag=id_tag,
        started_at=started_at,
        meter_start_wh=meter_start_wh,
    ).first()


def transaction_of_session(session_id: UUID) -> OcppTransaction | None:
    return OcppTransaction.objects.filter(session_id=session_id).select_related("charge_box").first()


def pending_command(command_id: UUID) -> RemoteCommand | None:
    """The command while it waits to be sent (None once sent or answered: a redelivery is ignored)."""
    return RemoteCommand.objects.filter(id=command_id, status=RemoteCommand.Status.PENDING).first()
