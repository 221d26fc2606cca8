from django.apps import AppConfig
from django.conf import settings


class ReservationsConfig(AppConfig):
    name = "apps.reservations"
    label = "reservations"
    verbose_name = "Reservations and charging sessions"

    def ready(self) -> None:
        from apps.reservations import handlers  # noqa: F401  (registers the subscribers)
        from apps.reservations.facade import ReservationsFacadeImpl
        from apps.reservations.tasks import EXPIRE_NO_SHOWS, FINALIZE_AWAITING_METER
        from evcharge.celery import register_periodic
        from evcharge.contracts import reservations

        reservations.register(ReservationsFacadeImpl())

        register_periodic(EXPIRE_NO_SHOWS, EXPIRE_NO_SHOWS, seconds=settings.RESERVATION_EXPIRY_SWEEP_SECONDS)
        register_periodic(
            FINALIZE_AWAITING_METER, FINALIZE_AWAITING_METER, seconds=settings.SESSION_METER_SWEEP_SECONDS
        )
