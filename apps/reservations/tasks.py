from celery import shared_task

from apps.reservations import services

EXPIRE_NO_SHOWS = "reservations.expire_no_shows"
FINALIZE_AWAITING_METER = "reservations.finalize_awaiting_meter"


@shared_task(name=EXPIRE_NO_SHOWS)
def expire_no_show_reservations() -> int:
    """Beat: confirmed reservations past their end become `expired` (reservation.expired.v1)."""
    expired = batch = services.reservations_expire_overdue()
    while batch == services.EXPIRY_BATCH_SIZE:
        batch = services.reservations_expire_overdue()
        expired += batch
    return expired


@shared_task(name=FINALIZE_AWAITING_METER)
def finalize_sessions_awaiting_meter() -> int:
    """Beat: sessions still awaiting the charger's reading ask telemetry again (a missed event, a reading
    stored before the stop was recorded)."""
    return services.sessions_finalize_awaiting()
