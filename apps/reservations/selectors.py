from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from apps.reservations.models import ChargingSession, Connector, Reservation, StationSettings
from evcharge.actor import Actor
from evcharge.contracts import pricing, telemetry
from evcharge.contracts.pricing import TariffSnapshot
from evcharge.contracts.telemetry import MeterReading
from evcharge.events.codec import from_primitive


def connector_get(connector_id: UUID) -> Connector | None:
    return Connector.objects.filter(id=connector_id, present=True).first()


def connector_get_by_code(code: str) -> Connector | None:
    return Connector.objects.filter(code=code, present=True).first()


def connectors_with_settings() -> QuerySet[Connector]:
    """Connectors still listed by their station, each annotated with its station's settings
    (`settings_enabled`, `settings_reservable`; true when none were published) in the same query."""
    settings = StationSettings.objects.filter(station_id=OuterRef("station_id"))
    return Connector.objects.filter(present=True).annotate(
        settings_enabled=Coalesce(Subquery(settings.values("enabled")[:1]), Value(True)),
        settings_reservable=Coalesce(Subquery(settings.values("reservable")[:1]), Value(True)),
    )


def connector_start_refusal(connector_id: UUID) -> str:
    """Why a session could not start on the connector now: the code of the 409 session_start would answer
    ("station_disabled", "connector_out_of_service", "charger_offline", "connector_busy"), "connector_unknown",
    or "" when it could. A look ahead for the pages; the start itself decides under its lock."""
    connector = connectors_with_settings().filter(id=connector_id).first()
    if connector is None:
        return "connector_unknown"
    if not (connector.station_enabled and connector.settings_enabled):
        return "station_disabled"
    if connector.out_of_service:
        return "connector_out_of_service"
    if connector.charger_unreachable:
        return "charger_offline"
    if session_active_on(connector.id) is not None:
        return "connector_busy"
    return ""


def _visible_to(queryset: QuerySet, by: Actor) -> QuerySet:
    if by.is_admin:
        return queryset
    if by.is_operator:
        return queryset.filter(operator_id=by.operator_id)
    return queryset.filter(user_id=by.user_id)


def _filtered(
    queryset: QuerySet,
    *,
    time_field: str,
    status: str | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    station_id: UUID | None,
    connector_id: UUID | None,
) -> QuerySet:
    if status:
        queryset = queryset.filter(status=status)
    if starts_from:
        queryset = queryset.filter(**{f"{time_field}__gte": starts_from})
    if starts_to:
        queryset = queryset.filter(**{f"{time_field}__lt": starts_to})
    if station_id:
        queryset = queryset.filter(station_id=station_id)
    if connector_id:
        queryset = queryset.filter(connector_id=connector_id)
    return queryset


def reservation_list(
    *,
    by: Actor,
    status: str | None = None,
    starts_from: datetime | None = None,
    starts_to: datetime | None = None,
    station_id: UUID | None = None,
    connector_id: UUID | None = None,
) -> QuerySet[Reservation]:
    return _filtered(
        _visible_to(Reservation.objects.all(), by),
        time_field="starts_at",
        status=status,
        starts_from=starts_from,
        starts_to=starts_to,
        station_id=station_id,
        connector_id=connector_id,
    )


def reservation_get_visible(*, reservation_id: UUID, by: Actor) -> Reservation | None:
    return _visible_to(Reservation.objects.filter(id=reservation_id), by).first()


def reservation_overlapping(*, connector_id: UUID, starts_at: datetime, ends_at: datetime) -> QuerySet[Reservation]:
    """Confirmed reservations of the connector sharing some time with [starts_at, ends_at)."""
    return Reservation.objects.filter(
        connector_id=connector_id,
        status=Reservation.Status.CONFIRMED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )


def reservation_holding(*, connector_id: UUID, at: datetime, early: timedelta = timedelta(0)) -> QuerySet[Reservation]:
    """Confirmed reservations of the connector whose window (opened `early`) holds the moment `at`."""
    return Reservation.objects.filter(
        connector_id=connector_id,
        status=Reservation.Status.CONFIRMED,
        starts_at__lte=at + early,
        ends_at__gt=at,
    ).order_by("starts_at")


def reservations_open_of(*, user_id: UUID, now: datetime) -> QuerySet[Reservation]:
    """The driver's confirmed reservations that are not over yet."""
    return Reservation.objects.filter(user_id=user_id, status=Reservation.Status.CONFIRMED, ends_at__gt=now)


def reservations_overdue(*, now: datetime) -> QuerySet[Reservation]:
    return Reservation.objects.filter(status=Reservation.Status.CONFIRMED, ends_at__lte=now)


def session_list(
    *,
    by: Actor,
    status: str | None = None,
    starts_from: datetime | None = None,
    starts_to: datetime | None = None,
    station_id: UUID | None = None,
    connector_id: UUID | None = None,
    energy_status: str | None = None,
    awaiting_meter: bool | None = None,
) -> QuerySet[ChargingSession]:
    sessions = _filtered(
        _visible_to(ChargingSession.objects.all(), by),
        time_field="started_at",
        status=status,
        starts_from=starts_from,
        starts_to=starts_to,
        station_id=station_id,
        connector_id=connector_id,
    )
    if energy_status:
        sessions = sessions.filter(energy_status=energy_status)
    awaiting = ChargingSession.EnergyStatus.AWAITING_METER
    if awaiting_meter is True:
        sessions = sessions.filter(energy_status=awaiting)
    elif awaiting_meter is False:
        sessions = sessions.exclude(energy_status=awaiting)
    return sessions


def session_get_visible(*, session_id: UUID, by: Actor) -> ChargingSession | None:
    return _visible_to(ChargingSession.objects.filter(id=session_id), by).first()


def session_active_on(connector_id: UUID) -> ChargingSession | None:
    return ChargingSession.objects.filter(connector_id=connector_id, status__in=ChargingSession.OPEN_STATUSES).first()


def session_active_of(user_id: UUID) -> ChargingSession | None:
    return ChargingSession.objects.filter(user_id=user_id, status__in=ChargingSession.OPEN_STATUSES).first()


def last_meter_reading(connector_id: UUID) -> MeterReading | None:
    """The connector's latest cumulative meter reading from the telemetry context, if it runs and knows one."""
    if not telemetry.registered():
        return None
    return telemetry.facade().last_meter_reading(connector_id=connector_id)


def first_meter_reading(connector_id: UUID, *, since: datetime) -> MeterReading | None:
    """The connector's first meter reading at or after `since`, from the telemetry context, if known."""
    if not telemetry.registered():
        return None
    return telemetry.facade().first_meter_reading(connector_id=connector_id, since=since)


def sessions_awaiting_meter(*, connector_ids: list[UUID] | None = None) -> QuerySet[ChargingSession]:
    """Completed sessions whose energy waits for the charger's reading, oldest stop first."""
    sessions = ChargingSession.objects.filter(energy_status=ChargingSession.EnergyStatus.AWAITING_METER)
    if connector_ids is not None:
        sessions = sessions.filter(connector_id__in=connector_ids)
    return sessions.order_by("ended_at")


def session_live_energy_wh(session: ChargingSession) -> int | None:
    """Energy so far of an active session, from a meter reading taken after it started; None if unknown."""
    if session.status != ChargingSession.Status.ACTIVE:
        return None
    reading = last_meter_reading(session.connector_id)
    if session.meter_start_wh is None:
        return None
    if reading is None or reading.ts < session.started_at or reading.energy_wh < session.meter_start_wh:
        return None
    return reading.energy_wh - session.meter_start_wh


def station_names() -> list[tuple[UUID, str]]:
    """(station_id, name) of every station in the read model, for the admin's filters."""
    rows = Connector.objects.order_by("station_name").values_list("station_id", "station_name").distinct()
    return list(dict(rows).items())


def operator_ids() -> list[UUID]:
    return list(Connector.objects.order_by("operator_id").values_list("operator_id", flat=True).distinct())


def session_energy_so_far(session: ChargingSession) -> int | None:
    """The billed energy once completed (None while the charger's reading is awaited), the latest reading's while
    active."""
    if session.status == ChargingSession.Status.ACTIVE:
        return session_live_energy_wh(session)
    return session.energy_wh


def session_cost_so_far(session: ChargingSession, *, now: datetime) -> int | None:
    """Energy, time and session fee so far at the session's tariff (pricing's arithmetic); None when pending or
    cancelled, when a completed session's energy is not known yet, or when no pricing is wired in."""
    energy_wh = session_energy_so_far(session)
    if session.status not in (ChargingSession.Status.ACTIVE, ChargingSession.Status.COMPLETED):
        return None
    if (session.status == ChargingSession.Status.COMPLETED and energy_wh is None) or not pricing.registered():
        return None
    ended = session.ended_at or now
    return pricing.facade().running_cost(
        tariff=from_primitive(TariffSnapshot, session.tariff),
        energy_wh=energy_wh or 0,
        duration_s=max(0, int((ended - session.started_at).total_seconds())),
    )
