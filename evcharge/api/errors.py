"""RFC 9457 problem+json for every error DRF, Django or a service raises."""

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from evcharge.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://evcharge.dev/problems/"
logger = logging.getLogger("evcharge.api")

_TITLES = {
    400: ("invalid-input", "Invalid input"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("business-rule", "Refused by a business rule"),
    429: ("throttled", "Too many requests"),
    500: ("server-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


BODY_TOO_LARGE = "The request body is larger than this route accepts."


def problem(status_code: int, detail: str, *, errors=None, title=None, slug=None, code=None, **extra) -> dict:
    default_slug, default_title = _TITLES.get(status_code, ("error", "Error"))
    body = {
        "type": TYPE_BASE + (slug or default_slug),
        "title": title or default_title,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if code:
        body["code"] = code
    body.update(extra)
    return body


def problem_response(status_code: int, detail: str, **kwargs) -> Response:
    return Response(problem(status_code, detail, **kwargs), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def _field_errors(data) -> dict[str, list[str]]:
    """DRF's nested error structure flattened to {field: [messages]} (nested paths dotted)."""
    flat: dict[str, list[str]] = {}

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and value and all(isinstance(v, (str, exceptions.ErrorDetail)) for v in value):
            flat.setdefault(path or "non_field_errors", []).extend(str(v) for v in value)
        elif isinstance(value, list):
            for index, sub in enumerate(value):
                if sub:
                    walk(sub, f"{path}.{index}" if path else str(index))
        else:
            flat.setdefault(path or "non_field_errors", []).append(str(value))

    walk(data, "")
    return flat


def _explained_auth_failure(exc, context):
    """401s as a sentence a person can act on with a stable `code`, never simplejwt's nested dict."""
    from rest_framework_simplejwt.exceptions import TokenError

    from evcharge.api import authentication

    request, view = context.get("request"), context.get("view")
    if isinstance(exc, authentication.CredentialsRefused):
        return exc
    authenticators = view.get_authenticators() if view is not None else []
    if isinstance(exc, exceptions.NotAuthenticated) and request is not None and authenticators:
        return authentication.missing_credentials(request, authenticators)
    if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.__cause__, TokenError):
        return authentication.refused_token(exc.__cause__, getattr(view, "token_kind", "given"))
    if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
        code = str(exc.detail.get("code") or "token_invalid")
        if code == "bad_authorization_header":
            message = "The Authorization header must be `<scheme> <credentials>`, e.g. `Bearer <access token>`."
        else:
            message = str(exc.detail.get("detail") or "The credentials are not valid").rstrip(".") + "."
        return authentication.CredentialsRefused(message, code)
    return exc


def problem_exception_handler(exc, context):
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        explained = _explained_auth_failure(exc, context)
        if explained is not exc:
            explained.status_code, explained.auth_header = exc.status_code, getattr(exc, "auth_header", None)
        exc = explained
    if isinstance(exc, DomainError):
        return problem_response(
            exc.status, exc.detail, errors=exc.errors, title=exc.title, slug=exc.type_slug, code=exc.code
        )
    if isinstance(exc, RequestDataTooBig):
        return problem_response(413, BODY_TOO_LARGE, code="payload_too_large")
    if isinstance(exc, (OperationalError, InterfaceError)):
        return database_unavailable_response()
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return problem_response(400, "The request has too many form fields or files.", code="too_many_fields")
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error", exc_info=exc)
        return problem_response(500, "An unexpected error occurred. It has been logged.")

    if isinstance(exc, exceptions.ValidationError):
        body = problem(400, "The request has invalid fields.", errors=_field_errors(exc.detail))
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = getattr(exc, "problem_code", None) or getattr(exc, "default_code", None)
        body = problem(response.status_code, detail, code=code)
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            body["retry_after_seconds"] = int(exc.wait)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


DATABASE_UNAVAILABLE = "The database is unreachable just now; nothing was changed. Try again in a few seconds."
DATABASE_RETRY_AFTER_SECONDS = 5
_RETRY_LATER = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}


def database_unavailable_response() -> Response:
    logger.warning("database unavailable", exc_info=True)
    response = problem_response(503, DATABASE_UNAVAILABLE, code="database_unavailable")
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def json_problem(status_code: int, detail: str, *, headers=None, **kwargs) -> JsonResponse:
    return JsonResponse(
        problem(status_code, detail, **kwargs), status=status_code, content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return json_problem(404, f"No route matches {request.path}.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):  # Django calls this while handling it
        if request.path.startswith("/api/"):
            return json_problem(503, DATABASE_UNAVAILABLE, code="database_unavailable", headers=_RETRY_LATER)
        return HttpResponse(DATABASE_UNAVAILABLE, status=503, content_type="text/plain", headers=_RETRY_LATER)
    if request.path.startswith("/api/"):
        return json_problem(status.HTTP_500_INTERNAL_SERVER_ERROR, "An unexpected error occurred.")
    from django.views.defaults import server_error

    return server_error(request)
