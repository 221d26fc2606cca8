"""The page a connector's QR code opens (PUBLIC_BASE_URL/c/<code>): public, HTML, no login."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.stations import selectors


@require_GET
def connector_landing(request: HttpRequest, code: str) -> HttpResponse:
    connector = selectors.connector_get_by_code(code)
    if connector is None:
        return render(request, "stations/connector_landing.html", {"code": code}, status=404)
    return render(
        request,
        "stations/connector_landing.html",
        {
            "connector": connector,
            "station": connector.charger.station,
            "status": selectors.connector_effective_status(connector),
            "code": connector.code,
        },
    )
