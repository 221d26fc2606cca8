from django.urls import path

from apps.chargepoints.api import views

urlpatterns = [
    path("chargers/<uuid:charger_id>", views.ChargerDetailApi.as_view(), name="charger"),
    path(
        "chargers/<uuid:charger_id>/ocpp-credentials",
        views.ChargerCredentialsApi.as_view(),
        name="charger-ocpp-credentials",
    ),
    path("chargers/<uuid:charger_id>/commands", views.ChargerCommandListApi.as_view(), name="charger-commands"),
    path(
        "chargers/<uuid:charger_id>/commands/<uuid:command_id>",
        views.ChargerCommandDetailApi.as_view(),
        name="charger-command",
    ),
]
