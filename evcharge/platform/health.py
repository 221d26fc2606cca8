"""Liveness and readiness for load balancers and Kubernetes probes (no authentication)."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


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
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": {name: ("ok" if not error else "failing") for name, error in checks.items()},
    }
    if failing:
        body["errors"] = failing
    return JsonResponse(body, status=503 if failing else 200)


def metrics(request):
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
