import logging
import re
import time
import uuid

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
