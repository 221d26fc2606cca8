import logging
from datetime import datetime, timedelta
from fractions import Fraction
from uuid import UUID, uuid4

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.reservations import selectors
from apps.reservations.models import (
    ChargerHealth,
    ChargingSession,
    Connector,
    ConnectorStatusAhead,
    Reservation,
    StationSettings,
)
from evcharge.actor import DRIVER, Actor
from evcharge.contracts import chargepoints, identity, pricing
from evcharge.contracts.adminconfig import StationConfigUpdated
from evcharge.contracts.pricing import TariffSnapshot
from evcharge.contracts.reservations import (
    ChargerStart,
    ChargerStartResult,
    ReservationCancelled,
    ReservationCreated,
    ReservationExpired,
    SessionCompleted,
    SessionStarted,
    SessionStopped,
)
from evcharge.contracts.stations import StationCreated, StationStatusChanged, StationUpdated
from evcharge.contracts.telemetry import MeterReading
from evcharge.errors import BusinessRuleViolation, Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from evcharge.events import publish
from evcharge.events.codec import from_primitive, to_primitive

logger = logging.getLogger("evcharge.reservations")

OVERLAP_CONSTRAINT = "reservation_no_overlap"
EXPIRY_BATCH_SIZE = 500
ADVISORY_LOCK_OPEN_RESERVATIONS = 1_402_001  # namespace of the per-driver advisory lock


def _announce(
    event: ReservationCreated
    | ReservationCancelled
    | ReservationExpired
    | SessionStarted
    | SessionStopped
    | SessionCompleted,
):
    """Publishes in the caller's transaction, with the reservation's or session's id as the subject."""
    subject = getattr(event, "session_id", None) or event.reservation_id
    publish(event, subject=str(subject))


# --- the connector read model, fed by the stations and adminconfig contexts' events ---


@transaction.atomic
def connectors_record_station(*, station: StationCreated | StationUpdated, at: datetime) -> None:
    """Upserts the station's connectors as the event describes them (full state); `at` is the event time. The
    station's data is applied when it is newer than the data held, a connector's status when it is newer than the
    status held (a station.status_changed.v1 of a later version may have moved only the status)."""
    listed: set[UUID] = set()
    for charger in station.chargers:
        for info in charger.connectors:
            listed.add(info.connector_id)
            connector = Connector.objects.select_for_update().filter(id=info.connector_id).first()
            if connector is None:
                connector = _connector_first_seen(info.connector_id, charger_id=charger.charger_id)
            newer_data = not station.version or station.version > connector.source_version
            if station.version:
                newer_status = station.version > connector.status_version
            else:
                newer_status = connector.status_at is None or connector.status_at <= at
            if not (newer_data or newer_status):
                continue  # a newer state of the station is applied already
            if newer_data:
                connector.station_id = station.station_id
                connector.charger_id = charger.charger_id
                connector.operator_id = station.operator_id
                connector.station_name = station.name
                connector.station_timezone = station.timezone
                connector.station_enabled = station.enabled
                connector.station_reservable = station.reservable
                connector.number = info.number
                connector.type = info.type
                connector.max_power_kw = info.max_power_kw
                connector.code = info.code
                connector.present = True
                connector.source_version = max(connector.source_version, station.version)
            if newer_status:
                connector.status = info.status
                connector.status_at = at
                connector.status_version = max(connector.status_version, station.version)
            connector.save()
    gone = Connector.objects.filter(station_id=station.station_id).exclude(id__in=listed)
    if station.version:
        gone = gone.filter(source_version__lt=station.version)
    gone.update(present=False)


def _connector_first_seen(connector_id: UUID, *, charger_id: UUID) -> Connector:
    """A connector the station's event brings for the first time, with what arrived ahead of that event: a newer
    status of its own, its charger's health."""
    connector = Connector(id=connector_id)
    ahead = ConnectorStatusAhead.objects.select_for_update().filter(connector_id=connector_id).first()
    if ahead is not None:
        connector.status, connector.status_at, connector.status_version = ahead.status, ahead.status_at, ahead.version
        ahead.delete()
    health = ChargerHealth.objects.filter(charger_id=charger_id).first()
    if health is not None:
        connector.charger_health, connector.charger_health_at = health.health, health.changed_at
        connector.charger_health_version = health.version
    return connector


@transaction.atomic
def connector_record_status(*, change: StationStatusChanged) -> None:
    connector = Connector.objects.select_for_update().filter(id=change.connector_id).first()
    if connector is None:
        if change.version:  # newer than the station's event that will bring the connector: kept until it comes
            ConnectorStatusAhead.objects.get_or_create(
                connector_id=change.connector_id,
                defaults={"status": change.new_status, "status_at": change.changed_at, "version": change.version},
            )
            ConnectorStatusAhead.objects.filter(connector_id=change.connector_id, version__lt=change.version).update(
                status=change.new_status, status_at=change.changed_at, version=change.version
            )
        else:  # from before versions: the station's own event brings the connector with its current status
            logger.info("status of an unknown connector ignored", extra={"connector_id": str(change.connector_id)})
        return
    if change.version:
        if connector.status_version >= change.version:
            return
    elif connector.status_at is not None and connector.status_at > change.changed_at:
        return
    connector.status = change.new_status
    connector.status_at = change.changed_at
    connector.status_version = max(connector.status_version, change.version)
    connector.save(update_fields=["status", "status_at", "status_version", "updated_at"])


@transaction.atomic
def charger_health_record(*, charger_id: UUID, health: str, changed_at: datetime, version: int = 0) -> None:
    """charger.health_changed.v1: an offline or faulted charger takes no new sessions or reservations until it is
    back. An older change than the one held is ignored (events may arrive out of order): by the charger's health
    version, or by time for an event without one (which keeps the version held). Kept for the charger too, for
    connectors the station's event has not brought yet."""
    _charger_health_keep(charger_id=charger_id, health=health, changed_at=changed_at, version=version)
    if version:
        newer = Q(charger_health_version__lt=version)
    else:
        newer = Q(charger_health_at__isnull=True) | Q(charger_health_at__lt=changed_at)
    Connector.objects.filter(newer, charger_id=charger_id).update(
        charger_health=health,
        charger_health_at=changed_at,
        charger_health_version=Greatest("charger_health_version", Value(version)),
    )


def _charger_health_keep(*, charger_id: UUID, health: str, changed_at: datetime, version: int) -> None:
    _, created = ChargerHealth.objects.get_or_create(
        charger_id=charger_id, defaults={"health": health, "changed_at": changed_at, "version": version}
    )
    if created:
        return
    newer = Q(version__lt=version) if version else Q(changed_at__lt=changed_at)
    ChargerHealth.objects.filter(newer, charger_id=charger_id).update(
        health=health, changed_at=changed_at, version=Greatest("version", Value(version))
    )


@transaction.atomic
def station_settings_record(*, update: StationConfigUpdated) -> None:
    """The station's settings as the event states them; an older version than the one held changes nothing."""
    held = StationSettings.objects.select_for_update().filter(station_id=update.station_id).first()
    if held is not None and update.version and held.config_version >= update.version:
        return
    StationSettings.objects.update_or_create(
        station_id=update.station_id,
        defaults={
            "operator_id": update.operator_id,
            "enabled": update.settings.enabled,
            "reservable": update.settings.reservable,
            "config_version": max(update.version, held.config_version if held else 0),
        },
    )


# --- reservations ---


def _validate_window(*, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput("ends_at must be after starts_at.", errors={"ends_at": ["Must be after starts_at."]})
    if starts_at < now - timedelta(seconds=settings.RESERVATION_CLOCK_SKEW_SECONDS):
        raise InvalidInput("starts_at must be in the future.", errors={"starts_at": ["Must be in the future."]})
    max_days = settings.RESERVATION_MAX_DAYS_AHEAD
    if starts_at > now + timedelta(days=max_days):
        raise InvalidInput(
            f"Reservations open at most {max_days} days ahead.",
            errors={"starts_at": [f"At most {max_days} days ahead."]},
        )
    max_minutes = settings.RESERVATION_MAX_MINUTES
    if ends_at - starts_at > timedelta(minutes=max_minutes):
        raise InvalidInput(
            f"A reservation lasts at most {max_minutes} minutes.",
            errors={"ends_at": [f"At most {max_minutes} minutes after starts_at."]},
        )


def _connector_for_use(
    connector_id: UUID, *, reserving: bool, lock: bool = False, charger_speaking: bool = False
) -> Connector:
    """The connector if it takes a new session or reservation now. `charger_speaking`: the charger itself
    asks (its StartTransaction), so it is reachable whatever health the read model last heard of."""
    connectors = selectors.connectors_with_settings()
    if lock:
        connectors = connectors.select_for_update(of=("self",))
    connector = connectors.filter(id=connector_id).first()
    if connector is None:
        raise NotFound("No such connector.")
    if not (connector.station_enabled and connector.settings_enabled):
        raise Conflict("This station is disabled.", code="station_disabled")
    if reserving and not (connector.station_reservable and connector.settings_reservable):
        raise Conflict("This station does not take reservations.", code="not_reservable")
    if connector.out_of_service:
        raise Conflict(f"The connector is {connector.status}.", code="connector_out_of_service")
    if connector.charger_unreachable and not charger_speaking:
        raise Conflict(
            f"The connector's charger is {connector.charger_health}; try another connector or later.",
            code="charger_offline",
        )
    return connector


def _check_open_reservations_cap(*, by: Actor, now: datetime) -> None:
    """A driver holds at most RESERVATIONS_MAX_OPEN_PER_DRIVER confirmed reservations not yet over. On
    PostgreSQL a transaction-scoped advisory lock per driver queues that driver's concurrent requests
    (SQLite runs write transactions one at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_OPEN_RESERVATIONS, str(by.user_id)]
            )
    cap = settings.RESERVATIONS_MAX_OPEN_PER_DRIVER
    if selectors.reservations_open_of(user_id=by.user_id, now=now).count() >= cap:
        raise Conflict(
            f"You already hold {cap} open reservations; cancel one or use it first.", code="too_many_reservations"
        )


@transaction.atomic
def reservation_create(*, connector_id: UUID, starts_at: datetime, ends_at: datetime, by: Actor) -> Reservation:
    now = timezone.now()
    _validate_window(starts_at=starts_at, ends_at=ends_at, now=now)
    connector = _connector_for_use(connector_id, reserving=True)
    _check_open_reservations_cap(by=by, now=now)
    # On PostgreSQL the exclusion constraint decides (below); elsewhere this check, in a transaction that
    # SQLite runs alone (IMMEDIATE), does.
    overlapping = selectors.reservation_overlapping(connector_id=connector.id, starts_at=starts_at, ends_at=ends_at)
    if connection.vendor != "postgresql" and overlapping.exists():
        raise Conflict("The connector is already reserved for part of this time.", code="reservation_overlap")
    try:  # no savepoint needed: on a violation the whole transaction is abandoned with a 409
        reservation = Reservation.objects.create(
            user_id=by.user_id,
            connector_id=connector.id,
            station_id=connector.station_id,
            operator_id=connector.operator_id,
            starts_at=starts_at,
            ends_at=ends_at,
        )
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT in str(exc):
            # A concurrent request won the same time slot: the database's exclusion constraint said no.
            raise Conflict(
                "The connector is already reserved for part of this time.", code="reservation_overlap"
            ) from exc
        raise
    _announce(
        ReservationCreated(
            reservation_id=reservation.id,
            connector_id=reservation.connector_id,
            station_id=reservation.station_id,
            user_id=reservation.user_id,
            starts_at=reservation.starts_at,
            ends_at=reservation.ends_at,
        )
    )
    return reservation


def _reservation_for_update(reservation_id: UUID, by: Actor) -> Reservation:
    reservation = Reservation.objects.select_for_update().filter(id=reservation_id).first()
    if reservation is None or not (by.manages(reservation.operator_id) or reservation.user_id == by.user_id):
        raise NotFound("No such reservation.")
    return reservation


@transaction.atomic
def reservation_cancel(*, reservation_id: UUID, by: Actor) -> Reservation:
    reservation = _reservation_for_update(reservation_id, by)
    if reservation.status != Reservation.Status.CONFIRMED:
        raise Conflict(f"Only a confirmed reservation can be cancelled; this one is {reservation.status}.")
    reservation.status = Reservation.Status.CANCELLED
    reservation.cancelled_at = timezone.now()
    reservation.cancelled_by = by.user_id
    reservation.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    _announce(
        ReservationCancelled(
            reservation_id=reservation.id,
            connector_id=reservation.connector_id,
            station_id=reservation.station_id,
            user_id=reservation.user_id,
            cancelled_by=by.user_id,
        )
    )
    return reservation


@transaction.atomic
def reservations_expire_overdue(*, now: datetime | None = None, limit: int = EXPIRY_BATCH_SIZE) -> int:
    """No-shows: confirmed reservations whose window has ended become `expired`. Returns how many."""
    now = now or timezone.now()
    overdue = list(
        selectors.reservations_overdue(now=now).select_for_update(skip_locked=True).order_by("ends_at")[:limit]
    )
    for reservation in overdue:
        reservation.status = Reservation.Status.EXPIRED
        reservation.expired_at = now
        reservation.save(update_fields=["status", "expired_at"])
        _announce(
            ReservationExpired(
                reservation_id=reservation.id,
                connector_id=reservation.connector_id,
                station_id=reservation.station_id,
                user_id=reservation.user_id,
            )
        )
    return len(overdue)


# --- charging sessions ---


def _tariff_snapshot(connector: Connector, at: datetime) -> TariffSnapshot:
    """The station's tariff from pricing; no tariff (or no pricing) refuses the session with 409 no_tariff
    rather than billing in a guessed currency."""
    try:
        return pricing.facade().tariff_snapshot(station_id=connector.station_id, connector_type=connector.type, at=at)
    except (LookupError, DomainError) as exc:
        logger.warning("no tariff from pricing", extra={"station": str(connector.station_id), "error": str(exc)})
        raise Conflict(
            "This station has no tariff yet, so it cannot be charged at; ask its operator.", code="no_tariff"
        ) from exc


def session_tariff(session: ChargingSession) -> TariffSnapshot:
    return from_primitive(TariffSnapshot, session.tariff)


def _reservation_to_fulfil(
    *, connector: Connector, reservation_id: UUID | None, by: Actor, now: datetime
) -> Reservation | None:
    """The driver's reservation this session fulfils (given, or their own one open right now), after
    refusing a connector someone else has reserved for now."""
    held_by_other = selectors.reservation_holding(connector_id=connector.id, at=now).exclude(user_id=by.user_id)
    if held_by_other.exists():
        raise Conflict("Someone else has reserved this connector for now.", code="connector_reserved")
    early = timedelta(minutes=settings.RESERVATION_EARLY_START_MINUTES)
    if reservation_id is None:
        return (
            selectors.reservation_holding(connector_id=connector.id, at=now, early=early)
            .filter(user_id=by.user_id)
            .select_for_update()
            .first()
        )
    reservation = Reservation.objects.select_for_update().filter(id=reservation_id, user_id=by.user_id).first()
    if reservation is None:
        raise NotFound("No such reservation.")
    if reservation.status != Reservation.Status.CONFIRMED:
        raise Conflict(f"This reservation is {reservation.status}, not confirmed.")
    if reservation.connector_id != connector.id:
        raise Conflict("This reservation is for another connector.", code="reservation_other_connector")
    if not (reservation.starts_at - early <= now < reservation.ends_at):
        raise Conflict("This reservation's time window is not open now.", code="reservation_not_open")
    return reservation


def _session_fields(session: ChargingSession) -> dict:
    """What session.started.v1 and session.completed.v1 both say about the session."""
    return {
        "session_id": session.id,
        "connector_id": session.connector_id,
        "station_id": session.station_id,
        "user_id": session.user_id,
        "operator_id": session.operator_id,
        "connector_type": session.connector_type,
        "reservation_id": session.reservation_id,
        "meter_start_wh": session.meter_start_wh or 0,
        "started_at": session.started_at,
        "tariff": session_tariff(session),
    }


def _session_started_event(session: ChargingSession) -> SessionStarted:
    return SessionStarted(**_session_fields(session))


def _session_completed_event(session: ChargingSession) -> SessionCompleted:
    settled = session.energy_status == ChargingSession.EnergyStatus.SETTLED
    meter_start = session.meter_start_wh or 0
    return SessionCompleted(
        **_session_fields(session),
        meter_stop_wh=meter_start + session.energy_wh if settled else session.meter_stop_wh,
        energy_wh=session.energy_wh,
        energy_source="settled" if settled else "meter",
        ended_at=session.ended_at,
        charging_ended_at=session.charging_ended_at,
    )


def _session_stopped_event(session: ChargingSession) -> SessionStopped:
    return SessionStopped(
        session_id=session.id,
        connector_id=session.connector_id,
        station_id=session.station_id,
        user_id=session.user_id,
        operator_id=session.operator_id,
        ended_at=session.ended_at,
        energy_status=session.energy_status,
    )


@transaction.atomic
def session_start(
    *,
    by: Actor,
    connector_id: UUID | None = None,
    code: str | None = None,
    reservation_id: UUID | None = None,
) -> ChargingSession:
    """Starts charging. The start meter is the charger's last reading (None until one is known: the
    charger's first reading of the session then stands in for it); a caller never supplies it. On a charger
    online over OCPP the session is `pending` and a RemoteStartTransaction goes to the charger: the session
    becomes active when the charger's StartTransaction arrives (session_start_from_charger)."""
    if (connector_id is None) == (code is None):
        raise InvalidInput(
            "Give either connector_id or code.", errors={"connector_id": ["Give either connector_id or code."]}
        )
    if connector_id is None:
        found = selectors.connector_get_by_code(code)
        if found is None:
            raise NotFound("No connector has this code.")
        connector_id = found.id
    # The lock on the read-model row queues concurrent starts on one connector (PostgreSQL); the partial
    # unique constraints below are the last word on both databases.
    connector = _connector_for_use(connector_id, reserving=False, lock=True)
    now = timezone.now()
    remote = chargepoints.registered() and chargepoints.facade().is_online(connector.charger_id)
    session = _session_open(
        connector=connector,
        user_id=by.user_id,
        reservation_id=reservation_id,
        by=by,
        now=now,
        meter_start_wh=None if remote else _last_meter(connector.id),
        status=ChargingSession.Status.PENDING if remote else ChargingSession.Status.ACTIVE,
    )
    if remote:
        chargepoints.facade().remote_start(
            session_id=session.id,
            charger_id=connector.charger_id,
            connector_number=connector.number,
            id_tag=identity.facade().id_tag_for_user(by.user_id),
            requested_by=by.user_id,
        )
    else:
        _announce(_session_started_event(session))
    return session


def _last_meter(connector_id: UUID) -> int | None:
    reading = selectors.last_meter_reading(connector_id)
    return reading.energy_wh if reading is not None else None


def _session_open(
    *,
    connector: Connector,
    user_id: UUID,
    reservation_id: UUID | None,
    by: Actor,
    now: datetime,
    meter_start_wh: int | None,
    status: str,
) -> ChargingSession:
    """Creates the session (and fulfils its reservation) on a connector whose row the caller locked."""
    if selectors.session_active_on(connector.id) is not None:
        raise Conflict("The connector is busy with another session.", code="connector_busy")
    if selectors.session_active_of(user_id) is not None:
        raise Conflict("You already have an active session; stop it first.", code="driver_busy")
    reservation = _reservation_to_fulfil(connector=connector, reservation_id=reservation_id, by=by, now=now)
    tariff = _tariff_snapshot(connector, now)
    try:  # no savepoint needed: on a violation the whole transaction is abandoned with a 409
        session = ChargingSession.objects.create(
            user_id=user_id,
            connector_id=connector.id,
            station_id=connector.station_id,
            operator_id=connector.operator_id,
            connector_type=connector.type,
            reservation_id=reservation.id if reservation else None,
            meter_start_wh=meter_start_wh,
            started_at=now,
            status=status,
            tariff=to_primitive(tariff),
        )
    except IntegrityError as exc:
        message = str(exc)
        if "per_driver" in message or "user_id" in message:
            raise Conflict("You already have an active session; stop it first.", code="driver_busy") from exc
        if "per_connector" in message or "connector_id" in message:
            raise Conflict("The connector is busy with another session.", code="connector_busy") from exc
        raise
    if reservation is not None:
        reservation.status = Reservation.Status.FULFILLED
        reservation.fulfilled_at = now
        reservation.session_id = session.id
        reservation.save(update_fields=["status", "fulfilled_at", "session_id"])
    return session


# The charger's clock is trusted for a session's start and stop only within these bounds of the platform's.
CHARGER_CLOCK_AHEAD = timedelta(minutes=1)
CHARGER_CLOCK_BEHIND = timedelta(minutes=10)


def _charger_time(stated: datetime, *, now: datetime, not_before: datetime | None = None) -> datetime:
    """The charger's timestamp when it is sane (not ahead of the platform, not long before the request or the
    start), else the platform's clock."""
    earliest = max(now - CHARGER_CLOCK_BEHIND, (not_before or now) - CHARGER_CLOCK_AHEAD)
    return stated if earliest <= stated <= now + CHARGER_CLOCK_AHEAD else now


@transaction.atomic
def session_start_from_charger(*, start: ChargerStart) -> ChargerStartResult:
    """The charger's StartTransaction: links the user's pending remote-start session on that connector (one
    session, not two), or starts a new one (a local start with an RFID tag). The start meter is the charger's.
    A business refusal is returned, never raised: the charger gets its answer either way."""
    now = timezone.now()
    connector = selectors.connectors_with_settings().select_for_update(of=("self",)).filter(id=start.connector_id)
    connector = connector.first()
    if connector is None:
        return ChargerStartResult(session_id=None, refusal="connector_unknown")
    pending = (
        ChargingSession.objects.select_for_update()
        .filter(connector_id=connector.id, user_id=start.user_id, status=ChargingSession.Status.PENDING)
        .first()
    )
    if pending is not None:
        pending.status = ChargingSession.Status.ACTIVE
        pending.meter_start_wh = start.meter_start_wh
        pending.started_at = _charger_time(start.started_at, now=now, not_before=pending.started_at)
        pending.save(update_fields=["status", "meter_start_wh", "started_at"])
        _announce(_session_started_event(pending))
        return ChargerStartResult(session_id=pending.id)
    driver = Actor(user_id=start.user_id, role=DRIVER)
    try:
        with transaction.atomic():
            connector = _connector_for_use(connector.id, reserving=False, lock=True, charger_speaking=True)
            session = _session_open(
                connector=connector,
                user_id=start.user_id,
                reservation_id=start.reservation_id,
                by=driver,
                now=_charger_time(start.started_at, now=now),
                meter_start_wh=start.meter_start_wh,
                status=ChargingSession.Status.ACTIVE,
            )
    except DomainError as exc:
        logger.info("charger's transaction refused", extra={"connector": str(connector.id), "code": exc.code})
        return ChargerStartResult(session_id=None, refusal=exc.code or type(exc).__name__)
    _announce(_session_started_event(session))
    return ChargerStartResult(session_id=session.id)


@transaction.atomic
def session_stop_from_charger(*, session_id: UUID, meter_stop_wh: int, stopped_at: datetime) -> None:
    """The charger's StopTransaction: the session completes with the charger's stop meter (beyond what the
    connector can deliver, it waits for staff to settle). A session no longer active is left as it is."""
    session = ChargingSession.objects.select_for_update().filter(id=session_id).first()
    if session is None or session.status != ChargingSession.Status.ACTIVE:
        return
    now = timezone.now()
    session.status = ChargingSession.Status.COMPLETED
    session.ended_at = _charger_time(stopped_at, now=now, not_before=session.started_at)
    session.energy_status = ChargingSession.EnergyStatus.AWAITING_METER
    start_wh = _start_meter(session)
    stop = MeterReading(connector_id=session.connector_id, energy_wh=meter_stop_wh, ts=session.ended_at)
    if start_wh is None:
        session.meter_stop_wh = meter_stop_wh  # kept until the start meter is known
    elif (problem := _charger_meter_problem(session, start_wh=start_wh, stop=stop)) is not None:
        logger.warning(
            "charger's stop meter not billable; staff must settle",
            extra={"session": str(session.id), "code": problem[0]},
        )
    else:
        _complete(session, start_wh=start_wh, stop=stop)
    session.save()
    _announce(_session_stopped_event(session))
    if session.energy_status == ChargingSession.EnergyStatus.METERED:
        _announce(_session_completed_event(session))


@transaction.atomic
def session_cancel_pending(*, session_id: UUID, reason: str) -> None:
    """A pending remote start the charger refused, never confirmed, or could not be reached for: the session is
    cancelled with the reason (nothing was charged: no event goes out). Any other session is left as it is."""
    session = ChargingSession.objects.select_for_update().filter(id=session_id).first()
    if session is None or session.status != ChargingSession.Status.PENDING:
        return
    session.status = ChargingSession.Status.CANCELLED
    session.cancel_reason = reason[:200]
    session.ended_at = timezone.now()
    session.save(update_fields=["status", "cancel_reason", "ended_at"])
    if session.reservation_id is not None:  # the reservation stays usable for the driver's next try
        Reservation.objects.filter(id=session.reservation_id, session_id=session.id).update(
            status=Reservation.Status.CONFIRMED, fulfilled_at=None, session_id=None
        )


# What a connector can deliver: its rated power over the elapsed time, plus a tolerance for meter and
# clock granularity. A reading beyond it is not billed (the charger's figure is refused or left to staff).
METER_TOLERANCE_FACTOR = Fraction(11, 10)
METER_TOLERANCE_WH = 1_000
UNKNOWN_POWER_KW = 1_000.0  # the stations context's MAX_POWER_KW


def session_capacity_wh(session: ChargingSession, *, until: datetime) -> int:
    """The most energy the session's connector can have delivered between its start and `until`."""
    connector = Connector.objects.filter(id=session.connector_id).only("max_power_kw").first()
    power_kw = connector.max_power_kw if connector is not None and connector.max_power_kw > 0 else UNKNOWN_POWER_KW
    seconds = max(0.0, (until - session.started_at).total_seconds())
    rated_wh = Fraction(power_kw) * 1000 * Fraction(seconds) / 3600
    return int(rated_wh * METER_TOLERANCE_FACTOR) + METER_TOLERANCE_WH


def _charger_meter_problem(session: ChargingSession, *, start_wh: int, stop: MeterReading) -> tuple[str, str] | None:
    """(code, message) when the charger's stop reading cannot be billed for this session, else None."""
    if stop.energy_wh < start_wh:
        return "meter_below_start", f"The meter reading {stop.energy_wh} Wh is below the session's start ({start_wh})."
    capacity = session_capacity_wh(session, until=max(stop.ts, session.ended_at or stop.ts))
    if stop.energy_wh - start_wh > capacity:
        return (
            "meter_beyond_capacity",
            f"{stop.energy_wh - start_wh} Wh is more than this connector can deliver in the session's time "
            f"(at most {capacity} Wh).",
        )
    return None


def _is_the_charger(by: Actor, session: ChargingSession) -> bool:
    """Only the station's own charger (its operator's API key) reports meter values."""
    return by.is_api_key and by.operator_id is not None and by.operator_id == session.operator_id


def _speaks_ocpp(session: ChargingSession) -> bool:
    """The session's charger has OCPP credentials: its meter reaches the platform over OCPP, not through its
    operator's API key."""
    connector = Connector.objects.filter(id=session.connector_id).only("charger_id").first()
    if connector is None or not chargepoints.registered():
        return False
    return connector.charger_id in chargepoints.facade().links([connector.charger_id])


def _start_meter(session: ChargingSession) -> int | None:
    """The session's start meter: known at start, else the charger's first reading taken during it."""
    if session.meter_start_wh is not None:
        return session.meter_start_wh
    first = selectors.first_meter_reading(session.connector_id, since=session.started_at)
    if first is None or (session.ended_at is not None and first.ts > session.ended_at):
        return None
    return first.energy_wh


def _complete(session: ChargingSession, *, start_wh: int, stop: MeterReading, charging_ended_at=None) -> None:
    session.meter_start_wh = start_wh
    session.meter_stop_wh = stop.energy_wh
    session.energy_wh = stop.energy_wh - start_wh
    session.energy_status = ChargingSession.EnergyStatus.METERED
    session.charging_ended_at = charging_ended_at


@transaction.atomic
def session_stop(*, session_id: UUID, by: Actor, meter_stop_wh: int | None = None) -> ChargingSession:
    """Stops charging. The energy is the charger's: the stop meter comes from its operator's API key or
    from telemetry. While neither knows a reading taken during the session, the session completes with
    energy_status `awaiting_meter` and session.completed.v1 waits for the reading (or staff settle it)."""
    session = ChargingSession.objects.select_for_update().filter(id=session_id).first()
    if session is None or not (by.manages(session.operator_id) or session.user_id == by.user_id):
        raise NotFound("No such session.")
    if meter_stop_wh is not None and not _is_the_charger(by, session):
        raise InvalidInput(
            "Only the station's charger reports meter values; stop with an empty body.",
            errors={"meter_stop_wh": ["Not accepted from people: the energy is the charger's reading."]},
            code="meter_from_charger_only",
        )
    if meter_stop_wh is not None and _speaks_ocpp(session):
        raise InvalidInput(
            "This charger reports its meter over OCPP; stop with an empty body.",
            errors={"meter_stop_wh": ["Its energy is taken only from what it sends over OCPP."]},
            code="meter_from_ocpp_charger",
        )
    if session.status == ChargingSession.Status.PENDING:
        session_cancel_pending(session_id=session.id, reason="stopped before the charger started")
        session.refresh_from_db()
        return session
    if session.status != ChargingSession.Status.ACTIVE:
        raise Conflict("This session has already been stopped.", code="session_not_active")
    now = timezone.now()
    if meter_stop_wh is None and _remote_stop(session, by=by):
        session.stop_requested_at = now
        session.save(update_fields=["stop_requested_at"])
        return session
    session.status = ChargingSession.Status.COMPLETED
    session.ended_at = now
    session.stopped_by = by.user_id
    session.energy_status = ChargingSession.EnergyStatus.AWAITING_METER
    start_wh = _start_meter(session)
    if meter_stop_wh is not None:
        stop = MeterReading(connector_id=session.connector_id, energy_wh=meter_stop_wh, ts=now)
        if start_wh is not None:
            problem = _charger_meter_problem(session, start_wh=start_wh, stop=stop)
            if problem is not None:
                raise BusinessRuleViolation(problem[1], errors={"meter_stop_wh": [problem[1]]}, code=problem[0])
            _complete(session, start_wh=start_wh, stop=stop)
        else:
            session.meter_stop_wh = meter_stop_wh  # kept until the start meter is known
    else:
        reading = selectors.last_meter_reading(session.connector_id)
        if reading is not None and reading.ts >= session.started_at and start_wh is not None:
            problem = _charger_meter_problem(session, start_wh=start_wh, stop=reading)
            if problem is None:
                charging_ended_at = reading.ts if reading.ts <= now and reading.energy_wh > start_wh else None
                _complete(session, start_wh=start_wh, stop=reading, charging_ended_at=charging_ended_at)
            else:
                logger.warning("charger reading not billable at stop", extra={"session": str(session.id)})
    session.save()
    _announce(_session_stopped_event(session))
    if session.energy_status == ChargingSession.EnergyStatus.METERED:
        _announce(_session_completed_event(session))
    return session


def _remote_stop(session: ChargingSession, *, by: Actor) -> bool:
    """Sends RemoteStopTransaction when the session runs on a charger online over OCPP. True if it was sent."""
    connector = Connector.objects.filter(id=session.connector_id).only("charger_id").first()
    if connector is None or not chargepoints.registered() or not chargepoints.facade().is_online(connector.charger_id):
        return False
    return chargepoints.facade().remote_stop(session_id=session.id, requested_by=by.user_id) is not None


@transaction.atomic
def session_finalize_energy(*, session_id: UUID) -> bool:
    """A session awaiting the charger's reading takes the first one at or after its stop (and, if its
    start was unknown, the first one during it), then publishes session.completed.v1. True if it did."""
    session = (
        ChargingSession.objects.select_for_update(skip_locked=True)
        .filter(id=session_id, energy_status=ChargingSession.EnergyStatus.AWAITING_METER)
        .first()
    )
    if session is None:
        return False
    start_wh = _start_meter(session)
    if start_wh is None:
        return False
    if session.meter_stop_wh is not None:  # the charger's own stop value, waiting for the start meter
        stop = MeterReading(connector_id=session.connector_id, energy_wh=session.meter_stop_wh, ts=session.ended_at)
    else:
        stop = selectors.first_meter_reading(session.connector_id, since=session.ended_at)
        if stop is None:
            return False
    problem = _charger_meter_problem(session, start_wh=start_wh, stop=stop)
    if problem is not None:
        logger.warning("charger reading not billable; staff must settle", extra={"session": str(session.id)})
        return False
    _complete(session, start_wh=start_wh, stop=stop)
    session.save()
    _announce(_session_completed_event(session))
    return True


def sessions_finalize_awaiting(*, connector_ids: list[UUID] | None = None, limit: int = EXPIRY_BATCH_SIZE) -> int:
    """Finalizes the sessions awaiting a reading (of these connectors: telemetry just stored readings for
    them; or any, most recently stopped first: the periodic sweep, so that sessions staff must settle do not
    crowd out the others). Returns how many were finalized."""
    awaiting = selectors.sessions_awaiting_meter(connector_ids=connector_ids).order_by("-ended_at")[:limit]
    return sum(session_finalize_energy(session_id=session_id) for session_id in awaiting.values_list("id", flat=True))


@transaction.atomic
def session_settle(*, session_id: UUID, energy_wh: int, reason: str, by: Actor) -> ChargingSession:
    """Staff (the station's operator, admins) set the energy of a session whose charger never reported a
    usable reading; the reason is kept with the session, and session.completed.v1 goes out."""
    if by.is_driver or by.is_api_key:
        raise NotAllowed("Only the station's operator staff or an admin may settle a session.")
    session = ChargingSession.objects.select_for_update().filter(id=session_id).first()
    if session is None or not by.manages(session.operator_id):
        raise NotFound("No such session.")
    if session.energy_status != ChargingSession.EnergyStatus.AWAITING_METER:
        raise Conflict(
            f"Only a session awaiting the charger's reading can be settled; this one is {session.energy_status}.",
            code="session_not_awaiting_meter",
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the energy is settled by hand.", errors={"reason": ["This field is required."]})
    capacity = session_capacity_wh(session, until=session.ended_at)
    if not 0 <= energy_wh <= capacity:
        raise BusinessRuleViolation(
            f"{energy_wh} Wh is more than this connector can deliver in the session's time (at most {capacity} Wh).",
            errors={"energy_wh": [f"Must be from 0 to {capacity}."]},
            code="meter_beyond_capacity",
        )
    session.energy_wh = energy_wh
    session.meter_stop_wh = None if session.meter_start_wh is None else session.meter_start_wh + energy_wh
    session.energy_status = ChargingSession.EnergyStatus.SETTLED
    session.settled_by = by.user_id
    session.settled_at = timezone.now()
    session.settlement_reason = reason
    session.save()
    logger.info(
        "session energy settled by staff",
        extra={"session": str(session.id), "energy_wh": energy_wh, "by": str(by.user_id), "reason": reason},
    )
    _announce(_session_completed_event(session))
    return session


@transaction.atomic
def session_record_completed(
    *,
    user_id: UUID,
    connector_id: UUID,
    started_at: datetime,
    ended_at: datetime,
    meter_start_wh: int,
    meter_stop_wh: int,
    charging_ended_at: datetime | None = None,
    session_id: UUID | None = None,
) -> ChargingSession:
    """Records a session that already took place (a charger's offline log, the demo data), publishing
    session.started.v1 and session.completed.v1 as if it had run live."""
    connector = selectors.connector_get(connector_id)
    if connector is None:
        raise NotFound("No such connector.")
    if not (started_at < ended_at <= timezone.now()) or meter_stop_wh < meter_start_wh:
        raise InvalidInput("A recorded session must lie in the past with a meter that did not go back.")
    session = ChargingSession.objects.create(
        id=session_id or uuid4(),
        user_id=user_id,
        connector_id=connector.id,
        station_id=connector.station_id,
        operator_id=connector.operator_id,
        connector_type=connector.type,
        status=ChargingSession.Status.COMPLETED,
        meter_start_wh=meter_start_wh,
        meter_stop_wh=meter_stop_wh,
        energy_wh=meter_stop_wh - meter_start_wh,
        energy_status=ChargingSession.EnergyStatus.METERED,
        started_at=started_at,
        ended_at=ended_at,
        charging_ended_at=charging_ended_at,
        tariff=to_primitive(_tariff_snapshot(connector, started_at)),
    )
    _announce(_session_started_event(session))
    _announce(_session_stopped_event(session))
    _announce(_session_completed_event(session))
    return session
