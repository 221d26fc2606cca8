"""ChargepointsFacade for the other contexts (evcharge/contracts/chargepoints.py)."""

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from apps.chargepoints import selectors
from apps.chargepoints.models import ChargeBox
from evcharge.contracts.chargepoints import OcppLink


def _online(box: ChargeBox) -> bool:
    """Connected, and seen within two ping intervals (the gateway refreshes last_seen_at of every live link every
    few seconds, so a crashed gateway's chargers turn offline by themselves)."""
    if not box.connected or box.last_seen_at is None:
        return False
    window = timedelta(seconds=2 * settings.OCPP_PING_INTERVAL_S + settings.OCPP_LAST_SEEN_FLUSH_S)
    return box.last_seen_at >= timezone.now() - window


class ChargepointsFacadeImpl:
    def links(self, charger_ids: list[UUID]) -> dict[UUID, OcppLink]:
        return {
            box.id: OcppLink(
                charger_id=box.id,
                connected=_online(box),
                last_seen_at=box.last_seen_at,
                vendor=box.vendor,
                model=box.model,
                firmware_version=box.firmware_version,
                protocol=box.protocol,
            )
            for box in selectors.charge_boxes(charger_ids)
            if box.password_hash or box.connected
        }

    def is_online(self, charger_id: UUID) -> bool:
        box = selectors.charge_boxes([charger_id])
        return bool(box) and _online(box[0])

    def remote_start(
        self, *, session_id: UUID, charger_id: UUID, connector_number: int, id_tag: str, requested_by: UUID | None
    ) -> UUID:
        from apps.chargepoints.services.commands import command_request

        command = command_request(
            charger_id=charger_id,
            action="RemoteStartTransaction",
            payload={"connectorId": connector_number, "idTag": id_tag},
            requested_by=requested_by,
            session_id=session_id,
        )
        return command.id

    def remote_stop(self, *, session_id: UUID, requested_by: UUID | None) -> UUID | None:
        from apps.chargepoints.services.commands import command_request

        ocpp_transaction = selectors.transaction_of_session(session_id)
        if ocpp_transaction is None:
            return None
        command = command_request(
            charger_id=ocpp_transaction.charge_box_id,
            action="RemoteStopTransaction",
            payload={"transactionId": ocpp_transaction.id},
            requested_by=requested_by,
            session_id=session_id,
        )
        return command.id
