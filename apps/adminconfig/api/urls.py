from django.urls import path

from apps.adminconfig.api import views

urlpatterns = [
    path("admin/config", views.ConfigListApi.as_view(), name="admin-config"),
    path("admin/config/<str:key>/history", views.ConfigHistoryApi.as_view(), name="admin-config-history"),
    path("admin/config/<str:key>", views.ConfigEntryApi.as_view(), name="admin-config-entry"),
    path(
        "admin/stations/<uuid:station_id>/settings", views.StationSettingsApi.as_view(), name="admin-station-settings"
    ),
]
