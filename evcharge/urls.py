"""Routes. Contexts are included by dotted string only: the platform never imports an app."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from evcharge.api.home import RedocView, home
from evcharge.platform import health

API_CONTEXTS = [
    "apps.identity.api.urls",
    "apps.stations.api.urls",
    "apps.reservations.api.urls",
    "apps.pricing.api.urls",
    "apps.billing.api.urls",
    "apps.reporting.api.urls",
    "apps.telemetry.api.urls",
    "apps.adminconfig.api.urls",
    "apps.notifications.api.urls",
    "apps.chargepoints.api.urls",
    "apps.driverweb.api.urls",
]

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/", include("evcharge.events.urls")),
    path("metrics", health.metrics, name="metrics"),  # also answered early by HealthCheckMiddleware
    path("admin/", admin.site.urls),
    *[path("api/v1/", include(module)) for module in API_CONTEXTS],
    path("", include("apps.reporting.dashboard_urls")),
    path("", include("apps.driverweb.api.page_urls")),  # /c/<code> (what a QR code opens), /s/<token>, /me/sessions
    path("", home, name="home"),  # for people (text/html); programs get a problem+json 404
]

handler404 = "evcharge.api.errors.handler404"
handler500 = "evcharge.api.errors.handler500"
