"""Idempotency-Key: a repeat with the same key and body returns the first response;
the same key with another body answers 409.

Usage in a view::

    return idempotent(request, scope="sessions.start", run=lambda: Response(...), required=False, atomic=True)

A request holds its key for IDEMPOTENCY_LEASE_SECONDS (the web request timeout). A retry within that lease
is a 409 (`idempotency_in_progress`); after it, the record is taken over (one conditional UPDATE: exactly one
retry wins) and the work runs again, so a worker that died mid-request does not block the key until the purge.

`atomic=True` (the work is database work only) runs the work, and stores its response, in one transaction
that holds the record's row lock: a crash rolls both back, and a late retry that takes the record over waits
for that lock, then replays instead of running twice. Work that calls the outside world between its own
transactions (a payment gateway) stays `atomic=False` and must be safe to run again itself.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from evcharge.api.models import IdempotencyRecord
from evcharge.errors import Conflict, InvalidInput

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _principal(request) -> str:
    actor = getattr(request.user, "actor", None)
    if actor is None:
        return "anonymous"
    return str(actor.user_id or f"key:{actor.api_key_id}")


def _in_progress() -> Conflict:
    return Conflict(
        f"A request with this {HEADER} is still being processed; retry shortly.", code="idempotency_in_progress"
    )


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        raise Conflict(f"This {HEADER} was already used with a different request body.", code="idempotency_key_reused")
    response = Response(record.response_body, status=record.status_code)
    if record.status_code >= 400:
        response.content_type = "application/problem+json"
    response[REPLAY_HEADER] = "true"
    return response


def _claim(
    *, scope: str, principal: str, key: str, fingerprint: str
) -> tuple[IdempotencyRecord | None, Response | None]:
    """(record this request now holds, None) or (None, the stored response to replay); raises 409s."""
    lease = uuid.uuid4()
    for _ in range(3):  # a record released (its request failed) between our insert and our read: insert again
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope, principal=principal, key=key, request_fingerprint=fingerprint, lease=lease
                )
            return record, None
        except IntegrityError:
            pass
        previous = IdempotencyRecord.objects.filter(scope=scope, principal=principal, key=key).first()
        if previous is None:
            continue
        if previous.status_code is not None or previous.request_fingerprint != fingerprint:
            return None, _replay(previous, fingerprint)
        now = timezone.now()
        expired = now - timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
        taken = IdempotencyRecord.objects.filter(
            pk=previous.pk, status_code__isnull=True, locked_at__lt=expired
        ).update(lease=lease, locked_at=now)
        if taken:
            previous.lease, previous.locked_at = lease, now
            return previous, None
        current = IdempotencyRecord.objects.filter(pk=previous.pk).first()
        if current is not None and current.status_code is not None:
            return None, _replay(current, fingerprint)
        if current is not None:
            break
    raise _in_progress()


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, lease=record.lease, status_code__isnull=True).delete()


def _store(record: IdempotencyRecord, response: Response) -> bool:
    body = json.loads(json.dumps(response.data, default=str))
    return bool(
        IdempotencyRecord.objects.filter(pk=record.pk, lease=record.lease).update(
            status_code=response.status_code, response_body=body
        )
    )


def idempotent(
    request, *, scope: str, run: Callable[[], Response], required: bool = False, atomic: bool = False
) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise InvalidInput(f"The {HEADER} header is required.", errors={HEADER: ["This header is required."]})
        return run()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
            errors={HEADER: [f"1 to {MAX_KEY_LENGTH} characters."]},
        )

    fingerprint = _fingerprint(request)
    record, replay = _claim(scope=scope, principal=_principal(request), key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    try:
        if atomic:
            return _run_atomically(record, run)
        response = run()
    except Exception:
        _release(record)
        raise
    if response.status_code >= 500:
        _release(record)
    else:
        _store(record, response)
    return response


def _run_atomically(record: IdempotencyRecord, run: Callable[[], Response]) -> Response:
    with transaction.atomic():
        held = IdempotencyRecord.objects.select_for_update().filter(pk=record.pk, lease=record.lease).first()
        if held is None:  # this request's lease ran out and a retry took the key over
            raise _in_progress()
        response = run()
        if response.status_code >= 500:
            transaction.set_rollback(True)
        else:
            _store(record, response)
    if response.status_code >= 500:
        _release(record)
    return response
