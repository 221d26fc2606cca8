from django.urls import path

from apps.reporting.api import views

urlpatterns = [
    path("reports/stations", views.StationsReportApi.as_view(), name="reports-stations"),
    path("reports/revenue", views.RevenueReportApi.as_view(), name="reports-revenue"),
    path("reports/utilization", views.UtilizationReportApi.as_view(), name="reports-utilization"),
]
