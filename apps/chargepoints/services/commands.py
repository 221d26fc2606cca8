"""Remote commands: recorded in the caller's transaction, routed after commit to the gateway holding the charger.

pending → sent (the gateway sent the call) → accepted | rejected | timeout | failed (the charger's answer, or none);
pending → offline when no gateway instance holds the charger at publish time. A RemoteStartTransaction that does
not end accepted cancels its pending session through the reservations facade."""

import json
import logging
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any
from uuid import UUID

import jsonschema
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.chargepoints import routing
from apps.chargepoints.models import OcppTransaction, RemoteCommand
from apps.chargepoints.services.credentials import charge_box_ensure
from evcharge.contracts import reservations
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
    counts = {"timed_out": 0, "sessions_cancelled": 0}
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
        counts["sessions_cancelled"] += 1
    return counts
