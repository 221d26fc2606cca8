from django.urls import path

from apps.driverweb.api import views

urlpatterns = [
    path("adhoc-connectors/<str:code>", views.AdhocConnectorApi.as_view(), name="driverweb-api-connector"),
    path("adhoc-sessions", views.AdhocSessionStartApi.as_view(), name="driverweb-api-start"),
    path("adhoc-sessions/<str:token>", views.AdhocSessionApi.as_view(), name="driverweb-api-session"),
    path("adhoc-sessions/<str:token>/stop", views.AdhocSessionStopApi.as_view(), name="driverweb-api-stop"),
    path("adhoc-sessions/<str:token>/cancel", views.AdhocSessionCancelApi.as_view(), name="driverweb-api-cancel"),
]
