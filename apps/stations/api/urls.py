from django.urls import path

from apps.stations.api import views

urlpatterns = [
    path("stations", views.StationListCreateApi.as_view(), name="stations"),
    path("stations/<uuid:station_id>", views.StationDetailApi.as_view(), name="station"),
    path("stations/<uuid:station_id>/chargers", views.ChargerAddApi.as_view(), name="station-chargers"),
    path("connectors/by-code/<str:code>", views.ConnectorByCodeApi.as_view(), name="connector-by-code"),
    path("connectors/<uuid:connector_id>", views.ConnectorDetailApi.as_view(), name="connector"),
    path("connectors/<uuid:connector_id>/qr", views.ConnectorQrApi.as_view(), name="connector-qr"),
    path("connectors/<uuid:connector_id>/status", views.ConnectorStatusApi.as_view(), name="connector-status"),
]
