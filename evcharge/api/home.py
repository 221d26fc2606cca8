"""The page a person sees at `/`: what this server is and where to go next. Programs get a 404 problem."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularRedocView

from evcharge.api.errors import json_problem


def _wants_html(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept or "application/xhtml+xml" in accept


@require_safe
def home(request):
    if not _wants_html(request):
        return json_problem(404, "No route matches /. The API lives under /api/v1/; its docs at /api/docs/.")
    return render(
        request,
        "evcharge/home.html",
        {"demo_qr_url": settings.DEMO_QR_URL, "public_base_url": settings.PUBLIC_BASE_URL},
    )


class RedocView(SpectacularRedocView):
    """ReDoc from the sidecar's files, without the web fonts drf-spectacular's page loads from a CDN."""

    template_name = "evcharge/redoc.html"
