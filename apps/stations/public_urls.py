"""Public, non-API pages of the stations context (included at the site root by evcharge/urls.py)."""

from django.urls import path

from apps.stations.api.landing import connector_landing

urlpatterns = [path("c/<str:code>", connector_landing, name="connector-landing")]
