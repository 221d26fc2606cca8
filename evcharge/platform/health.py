"""Liveness and readiness for load balancers and Kubernetes probes (no authentication).

The public answer is ok/failing per dependency; why a check failed (hosts, ports, driver messages) goes to
the log only."""

import hmac
import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from evcharge.api.errors import json_problem

logger = logging.getLogger("evcharge.health")


def live(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def _check_broker() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return None
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def ready(request):
    checks = {"database": _check_database(), "broker": _check_broker()}
    if not settings.CELERY_BROKER_URL:
        checks.pop("broker")
    failing = {name: error for name, error in checks.items() if error}
    for name, error in failing.items():
        logger.error("readiness check %s failing: %s", name, error, extra={"check": name, "error": error})
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": {name: ("ok" if not error else "failing") for name, error in checks.items()},
    }
    return JsonResponse(body, status=503 if failing else 200)


def metrics(request):
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = json_problem(401, "/metrics needs its bearer token (METRICS_TOKEN).")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    from django_prometheus.exports import ExportToDjangoView

    return ExportToDjangoView(request)


class HealthCheckMiddleware:
    """Answers the probes (and Prometheus' scrape) before host validation and the HTTPS redirect:
    kubelets, Docker's HEALTHCHECK and Prometheus call over plain HTTP with the pod's IP as the Host."""

    PROBES = {"/health/live": live, "/health/ready": ready, "/metrics": metrics}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = self.PROBES.get(request.path)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
