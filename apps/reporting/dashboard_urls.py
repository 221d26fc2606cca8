from django.urls import path

from apps.reporting.api.dashboard import dashboard

urlpatterns = [path("reports/dashboard", dashboard, name="reporting-dashboard")]
