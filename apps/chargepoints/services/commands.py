"""Remote commands: recorded in the caller's transaction, routed after commit to the gateway holding the charger.

pending → sent (the gateway sent the call) → accepted | rejected | timeout | failed (the charger's answer, or none);
pending → offline when no gateway instance holds the charger at publish time. A RemoteStartTransaction that does
not end accepted cancels its pending session through the reservations facade."""

import json
import logging
from datetime import UTC, timedelta
from functools import cache
from importlib import resources
from typing import Any
from uuid import UUID

import jsonschema
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.chargepoints import routing
from apps.chargepoints.models import ChargeBox, OcppReservation, OcppTransaction, RemoteCommand, StationAvailability
from apps.chargepoints.services.credentials import charge_box_ensure
from evcharge.contracts import identity, reservations, stations
from evcharge.contracts.chargepoints import COMMAND_ACTIONS
from evcharge.errors import InvalidInput

logger = logging.getLogger(__name__)

Status = RemoteCommand.Status
FINAL_STATUSES = {Status.ACCEPTED, Status.REJECTED, Status.TIMEOUT, Status.OFFLINE, Status.FAILED}
ANSWER_STATUSES = {s.value for s in FINAL_STATUSES}
REMOTE_START = "RemoteStartTransaction"
NO_START_TRANSACTION = "no StartTransaction from the charger"
REMOTE_START_HORIZON = timedelta(hours=1)
"""How far back the sweep looks for accepted remote starts that never got their StartTransaction."""


@cache
def _request_schema(action: str) -> dict:
    text = resources.files("ocpp.v16").joinpath("schemas", f"{action}.json").read_text(encoding="utf-8")
    return json.loads(text)


def command_payload_validate(*, action: str, payload: Any) -> dict:
    """The payload, checked against the OCPP 1.6 JSON schema of the action's request."""
    if action not in COMMAND_ACTIONS:
        raise InvalidInput(
            f"{action!r} is not a remote command; one of: {', '.join(COMMAND_ACTIONS)}.",
            errors={"action": [f"One of: {', '.join(COMMAND_ACTIONS)}."]},
            code="command_action_unknown",
        )
    if not isinstance(payload, dict):
        raise InvalidInput("The payload is a JSON object.", errors={"payload": ["A JSON object."]}, code="payload")
    validator = jsonschema.Draft4Validator(_request_schema(action))
    error = next(iter(sorted(validator.iter_errors(payload), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "payload" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.path)
        raise InvalidInput(
            f"The payload is not a valid OCPP 1.6 {action}: {where}: {error.message}",
            errors={"payload": [f"{where}: {error.message}"]},
            code="command_payload_invalid",
        )
    return payload


def command_request(
    *, charger_id: UUID, action: str, payload: dict, requested_by: UUID | None, session_id: UUID | None = None
) -> RemoteCommand:
    """Records the command `pending` in the caller's transaction; it is routed after commit (and is `offline`
    then at once when no gateway instance holds the charger)."""
    payload = command_payload_validate(action=action, payload=payload)
    with transaction.atomic():
        box = charge_box_ensure(charger_id=charger_id)
        command = RemoteCommand.objects.create(
            charge_box=box, action=action, payload=payload, requested_by=requested_by, session_id=session_id
        )
        charge_box_id = box.charge_box_id
        transaction.on_commit(lambda: command_route(command_id=command.id, charge_box_id=charge_box_id))
    return command


def command_route(*, command_id: UUID, charge_box_id: str) -> None:
    """Publishes a committed command to the gateway holding its charger; `offline` when none does."""
    try:
        routed = routing.command_publish(charge_box_id=charge_box_id, command_id=command_id)
    except routing.RoutingUnavailable as error:
        logger.warning("remote command %s not routed: %s", command_id, error)
        command_record_answer(command_id=command_id, status=Status.FAILED, response={"error": str(error)})
        return
    if not routed:
        command_record_answer(
            command_id=command_id,
            status=Status.OFFLINE,
            response={"error": "the charger is not connected to any gateway"},
        )


def command_mark_sent(*, command_id: UUID, gateway_instance: str) -> bool:
    """The gateway is sending the call now. False when the command is no longer pending (nothing changes)."""
    return bool(
        RemoteCommand.objects.filter(id=command_id, status=Status.PENDING).update(
            status=Status.SENT, sent_at=timezone.now(), gateway_instance=gateway_instance[:100]
        )
    )


def command_record_answer(*, command_id: UUID, status: str, response: dict | None) -> RemoteCommand | None:
    """The outcome of a command (the charger's answer, or why there is none). A command already answered keeps
    its first outcome. A remote start that is not accepted cancels its pending session."""
    if status not in ANSWER_STATUSES:
        raise ValueError(f"not an answer status: {status!r}")
    with transaction.atomic():
        command = RemoteCommand.objects.select_for_update().filter(id=command_id).first()
        if command is None or command.status in FINAL_STATUSES:
            return command
        command.status = status
        command.response = response
        command.answered_at = timezone.now()
        command.save(update_fields=["status", "response", "answered_at"])
        if command.action == REMOTE_START and status != Status.ACCEPTED and command.session_id is not None:
            _cancel_pending_session(command.session_id, f"remote start {status}")
    return command


def _cancel_pending_session(session_id: UUID, reason: str) -> None:
    if reservations.registered():
        reservations.facade().session_cancel_pending(session_id=session_id, reason=reason)


def commands_sweep() -> dict[str, int]:
    """Commands whose gateway never answered (it died, or the message was lost) time out; accepted remote starts
    whose charger never sent StartTransaction in time cancel their pending session."""
    now = timezone.now()
    stale = now - timedelta(seconds=2 * settings.OCPP_CALL_TIMEOUT_S)
    counts = {"timed_out": 0, "remote_starts_overdue": 0}
    lost = RemoteCommand.objects.filter(status__in=[Status.PENDING, Status.SENT], created_at__lt=stale).filter(
        sent_at__isnull=True
    ) | RemoteCommand.objects.filter(status=Status.SENT, sent_at__lt=stale)
    for command_id in lost.values_list("id", flat=True):
        answered = command_record_answer(
            command_id=command_id, status=Status.TIMEOUT, response={"error": "no answer from the gateway"}
        )
        counts["timed_out"] += answered is not None and answered.status == Status.TIMEOUT
    deadline = now - timedelta(seconds=settings.OCPP_REMOTE_START_TIMEOUT_S)
    unanswered_starts = RemoteCommand.objects.filter(
        action=REMOTE_START,
        status=Status.ACCEPTED,
        session_id__isnull=False,
        created_at__lt=deadline,
        created_at__gte=deadline - REMOTE_START_HORIZON,
    ).values_list("session_id", flat=True)
    linked = set(
        OcppTransaction.objects.filter(session_id__in=list(unanswered_starts)).values_list("session_id", flat=True)
    )
    for session_id in set(unanswered_starts) - linked:
        with transaction.atomic():
            _cancel_pending_session(session_id, NO_START_TRANSACTION)
        counts["remote_starts_overdue"] += 1
    return counts


# --- what other contexts' events ask of chargers ---

AVAILABILITY = {True: "Operative", False: "Inoperative"}


@transaction.atomic
def station_availability_record(*, station_id: UUID, enabled: bool, version: int) -> bool:
    """Keeps the station's `enabled` setting; True when this version is newer than the one held (0: no version,
    always newer), so the caller acts on it."""
    held = StationAvailability.objects.select_for_update().filter(station_id=station_id).first()
    if held is not None and version and held.config_version >= version:
        return False
    StationAvailability.objects.update_or_create(
        station_id=station_id,
        defaults={"enabled": enabled, "config_version": max(version, held.config_version if held else 0)},
    )
    return True


def charge_boxes_set_availability(*, station_id: UUID, operative: bool) -> list[RemoteCommand]:
    """ChangeAvailability (the whole charger, connectorId 0) to each connected charger of the station."""
    return [
        command_request(
            charger_id=box_id,
            action="ChangeAvailability",
            payload={"connectorId": 0, "type": AVAILABILITY[operative]},
            requested_by=None,
        )
        for box_id in ChargeBox.objects.filter(station_id=station_id, connected=True).values_list("id", flat=True)
    ]


def _ocpp_time(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ocpp_reservation_record(
    *, reservation_id: UUID, connector_id: UUID, user_id: UUID, starts_at, ends_at
) -> OcppReservation | None:
    """A reservation on a connector of an OCPP charger gets its OCPP reservationId; ReserveNow is sent now when
    its window starts within OCPP_RESERVE_NOW_LEAD_S, else by the sweep. None for a charger without OCPP."""
    connector = stations.facade().connector(connector_id)
    if connector is None:
        return None
    box = ChargeBox.objects.filter(id=connector.charger_id).first()
    if box is None:
        return None
    with transaction.atomic():
        row, _ = OcppReservation.objects.get_or_create(
            reservation_id=reservation_id,
            defaults={
                "charge_box": box,
                "connector_number": connector.number,
                "user_id": user_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
            },
        )
        _reserve_now_if_due(row, now=timezone.now())
    return row


def _reserve_now_if_due(row: OcppReservation, *, now) -> bool:
    lead = timedelta(seconds=settings.OCPP_RESERVE_NOW_LEAD_S)
    due = row.reserve_command_id is None and row.cancelled_at is None and row.starts_at <= now + lead
    if not due or row.ends_at <= now or not ChargeBox.objects.filter(id=row.charge_box_id, connected=True).exists():
        return False
    command = command_request(
        charger_id=row.charge_box_id,
        action="ReserveNow",
        payload={
            "connectorId": row.connector_number,
            "expiryDate": _ocpp_time(row.ends_at),
            "idTag": identity.facade().id_tag_for_user(row.user_id),
            "reservationId": row.id,
        },
        requested_by=None,
    )
    row.reserve_command_id = command.id
    row.save(update_fields=["reserve_command_id"])
    return True


def ocpp_reservation_cancel(*, reservation_id: UUID) -> RemoteCommand | None:
    """CancelReservation to the charger when it was sent the ReserveNow; a later ReserveNow is never sent."""
    with transaction.atomic():
        row = OcppReservation.objects.select_for_update().filter(reservation_id=reservation_id).first()
        if row is None or row.cancelled_at is not None:
            return None
        row.cancelled_at = timezone.now()
        row.save(update_fields=["cancelled_at"])
        if row.reserve_command_id is None or row.ends_at <= row.cancelled_at:
            return None
        return command_request(
            charger_id=row.charge_box_id,
            action="CancelReservation",
            payload={"reservationId": row.id},
            requested_by=None,
        )


def ocpp_reservations_send_due() -> int:
    """ReserveNow for the reservations whose window starts within OCPP_RESERVE_NOW_LEAD_S (beat)."""
    now = timezone.now()
    due = OcppReservation.objects.filter(
        reserve_command_id__isnull=True,
        cancelled_at__isnull=True,
        starts_at__lte=now + timedelta(seconds=settings.OCPP_RESERVE_NOW_LEAD_S),
        ends_at__gt=now,
        charge_box__connected=True,
    ).values_list("id", flat=True)
    sent = 0
    for row_id in due:
        with transaction.atomic():
            row = OcppReservation.objects.select_for_update().get(id=row_id)
            sent += _reserve_now_if_due(row, now=now)
    return sent
