"""ReservationsFacade for the OCPP gateway (evcharge/contracts/reservations.py)."""

from datetime import datetime
from uuid import UUID

from django.utils import timezone

from apps.reservations import selectors, services
from apps.reservations.models import ChargingSession
from evcharge.actor import DRIVER, Actor
from evcharge.contracts.pricing import TariffSnapshot
from evcharge.contracts.reservations import ChargerStart, ChargerStartResult, SessionLive
from evcharge.errors import NotFound
from evcharge.events.codec import from_primitive


def session_live(session: ChargingSession) -> SessionLive:
    return SessionLive(
        session_id=session.id,
        user_id=session.user_id,
        connector_id=session.connector_id,
        station_id=session.station_id,
        status=session.status,
        energy_status=session.energy_status,
        started_at=session.started_at,
        ended_at=session.ended_at,
        energy_wh=selectors.session_energy_so_far(session),
        cost_so_far=selectors.session_cost_so_far(session, now=timezone.now()),
        tariff=from_primitive(TariffSnapshot, session.tariff),
        cancel_reason=session.cancel_reason,
        stop_requested=session.stop_requested_at is not None,
    )


class ReservationsFacadeImpl:
    def session_start_for(self, *, user_id: UUID, connector_id: UUID) -> SessionLive:
        return session_live(services.session_start(by=Actor(user_id=user_id, role=DRIVER), connector_id=connector_id))

    def connector_start_refusal(self, connector_id: UUID) -> str:
        return selectors.connector_start_refusal(connector_id)

    def session_live(self, session_id: UUID) -> SessionLive | None:
        session = ChargingSession.objects.filter(id=session_id).first()
        return session_live(session) if session is not None else None

    def session_stop_for(self, *, session_id: UUID, user_id: UUID) -> SessionLive:
        session = services.session_stop(session_id=session_id, by=Actor(user_id=user_id, role=DRIVER))
        if session.user_id != user_id:
            raise NotFound("No such session.")
        return session_live(session)

    def sessions_of(self, user_id: UUID, *, limit: int = 50) -> list[SessionLive]:
        return [
            session_live(s) for s in ChargingSession.objects.filter(user_id=user_id).order_by("-started_at")[:limit]
        ]

    def session_start_from_charger(self, start: ChargerStart) -> ChargerStartResult:
        return services.session_start_from_charger(start=start)

    def session_stop_from_charger(self, *, session_id: UUID, meter_stop_wh: int, stopped_at: datetime) -> None:
        services.session_stop_from_charger(session_id=session_id, meter_stop_wh=meter_stop_wh, stopped_at=stopped_at)

    def session_cancel_pending(self, *, session_id: UUID, reason: str) -> None:
        services.session_cancel_pending(session_id=session_id, reason=reason)
