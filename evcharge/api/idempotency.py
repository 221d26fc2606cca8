"""Idempotency-Key: a repeat with the same key and body returns the first response;
the same key with another body answers 409.

Usage in a view::

    return idempotent(request, scope="sessions.start", run=lambda: Response(...), required=False)
"""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
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


def idempotent(request, *, scope: str, run: Callable[[], Response], required: bool = False) -> Response:
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
    principal = _principal(request)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                scope=scope, principal=principal, key=key, request_fingerprint=fingerprint
            )
    except IntegrityError:
        previous = IdempotencyRecord.objects.get(scope=scope, principal=principal, key=key)
        if previous.request_fingerprint != fingerprint:
            raise Conflict(
                f"This {HEADER} was already used with a different request body.",
                code="idempotency_key_reused",
            ) from None
        if previous.status_code is None:
            raise Conflict(
                f"A request with this {HEADER} is still being processed; retry shortly.",
                code="idempotency_in_progress",
            ) from None
        response = Response(previous.response_body, status=previous.status_code)
        if previous.status_code >= 400:
            response.content_type = "application/problem+json"
        response[REPLAY_HEADER] = "true"
        return response

    try:
        response = run()
    except Exception:
        record.delete()
        raise
    if response.status_code >= 500:
        record.delete()
        return response
    record.status_code = response.status_code
    record.response_body = json.loads(json.dumps(response.data, default=str))
    record.save(update_fields=["status_code", "response_body"])
    return response
