from django.urls import path

from apps.reservations.api import views

urlpatterns = [
    path("reservations", views.ReservationListCreateApi.as_view(), name="reservations"),
    path("reservations/<uuid:reservation_id>", views.ReservationDetailApi.as_view(), name="reservation"),
    path("reservations/<uuid:reservation_id>/cancel", views.ReservationCancelApi.as_view(), name="reservation-cancel"),
    path("sessions", views.SessionListStartApi.as_view(), name="sessions"),
    path("sessions/<uuid:session_id>", views.SessionDetailApi.as_view(), name="session"),
    path("sessions/<uuid:session_id>/stop", views.SessionStopApi.as_view(), name="session-stop"),
    path("sessions/<uuid:session_id>/settle", views.SessionSettleApi.as_view(), name="session-settle"),
]
