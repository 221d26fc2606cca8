from django.urls import path

from apps.telemetry.api import views

urlpatterns = [
    path("telemetry/events", views.TelemetryEventsApi.as_view(), name="telemetry-events"),
    path("telemetry/stations/<uuid:station_id>/latest", views.StationLatestApi.as_view(), name="telemetry-latest"),
]
