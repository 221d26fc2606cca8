"""ReservationsFacade for the OCPP gateway (evcharge/contracts/reservations.py)."""

from datetime import datetime
from uuid import UUID

from apps.reservations import services
from evcharge.contracts.reservations import ChargerStart, ChargerStartResult


class ReservationsFacadeImpl:
    def session_start_from_charger(self, start: ChargerStart) -> ChargerStartResult:
        return services.session_start_from_charger(start=start)

    def session_stop_from_charger(self, *, session_id: UUID, meter_stop_wh: int, stopped_at: datetime) -> None:
        services.session_stop_from_charger(session_id=session_id, meter_stop_wh=meter_stop_wh, stopped_at=stopped_at)

    def session_cancel_pending(self, *, session_id: UUID, reason: str) -> None:
        services.session_cancel_pending(session_id=session_id, reason=reason)
