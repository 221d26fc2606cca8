import logging
import re
import time
import uuid

from django.conf import settings

from evcharge.api.errors import BODY_TOO_LARGE, PROBLEM_CONTENT_TYPE, json_problem
from evcharge.api.logging import request_id_var, user_id_var

logger = logging.getLogger("evcharge.request")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Gives every request an id (X-Request-ID, taken from the caller when sane) and logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        request_token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response = _problem_for_api_page(request, response)
            user = getattr(request, "user", None)
            actor = getattr(user, "actor", None)
            if actor is not None:
                user_id_var.set(str(actor.user_id or actor.api_key_id))
            response["X-Request-ID"] = request_id
            if not request.path.startswith(("/health/", "/metrics")):
                logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            return response
        finally:
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)


def _problem_for_api_page(request, response):
    """Under /api/ an error is problem+json even where Django would answer with an HTML page
    (an unknown route while DEBUG is on, a plain Django view's 404/405)."""
    if (
        request.path.startswith("/api/")
        and response.status_code in (404, 405)
        and not response.get("Content-Type", "").startswith((PROBLEM_CONTENT_TYPE, "application/json"))
    ):
        if response.status_code == 404:
            return json_problem(404, f"No route matches {request.path}.")
        problem = json_problem(405, f"Method {request.method} is not allowed on {request.path}.")
        if response.has_header("Allow"):
            problem["Allow"] = response["Allow"]
        return problem
    return response


class BodySizeLimitMiddleware:
    """413 problem+json for a body whose Content-Length exceeds the route's limit (API_MAX_BODY_BYTES, or
    API_MAX_BODY_BYTES_BY_PATH for a route with its own), answered before anything reads the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return json_problem(400, "The Content-Length header is not a number.")
            limits = getattr(settings, "API_MAX_BODY_BYTES_BY_PATH", {})
            limit = limits.get(request.path, settings.API_MAX_BODY_BYTES)
            if length > limit:
                return json_problem(413, BODY_TOO_LARGE, code="payload_too_large", max_bytes=limit)
        return self.get_response(request)
