import logging
import secrets
import zoneinfo
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone as dj_timezone

from apps.stations import selectors
from apps.stations.models import (
    AVAILABLE,
    CHARGING,
    FAULTED,
    FINISHING,
    MAX_POWER_KW,
    UNAVAILABLE,
    Charger,
    Connector,
    Station,
    derive_station_status,
)
from evcharge.actor import Actor
from evcharge.contracts import identity as identity_contract
from evcharge.contracts.stations import (
    CONNECTOR_STATUSES,
    CONNECTOR_TYPES,
    ChargerInfo,
    ConnectorInfo,
    Location,
    StationCreated,
    StationStatusChanged,
    StationUpdated,
)
from evcharge.errors import Conflict, InvalidInput, NotAllowed, NotFound
from evcharge.events import publish

logger = logging.getLogger("evcharge.stations")

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a sticker without doubt
CODE_LENGTH = 8
UPDATABLE_STATION_FIELDS = ("name", "address", "latitude", "longitude", "timezone")
VALID_TIMEZONES = frozenset(zoneinfo.available_timezones())


def new_connector_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Connector.objects.filter(code=code).exists():
            return code


# --- validation shared by the API and the other callers (demo, admin, facade) ---


def _check_timezone(name: str) -> None:
    if name not in VALID_TIMEZONES:
        raise InvalidInput(f"Unknown time zone {name!r}.", errors={"timezone": ["Not an IANA time zone name."]})


def _check_coordinates(latitude: float | None, longitude: float | None) -> None:
    errors = {}
    if latitude is not None and not -90 <= latitude <= 90:
        errors["latitude"] = ["Must be between -90 and 90."]
    if longitude is not None and not -180 <= longitude <= 180:
        errors["longitude"] = ["Must be between -180 and 180."]
    if errors:
        raise InvalidInput("Invalid coordinates.", errors=errors)


def _check_chargers(chargers: list[dict[str, Any]], *, prefix: str) -> None:
    errors: dict[str, list[str]] = {}
    serials = [charger["serial"] for charger in chargers]
    for index, charger in enumerate(chargers):
        where = f"{prefix}{index}."
        if serials.count(charger["serial"]) > 1:
            errors.setdefault(f"{where}serial", []).append("Serials must be unique.")
        if not 0 < charger["max_power_kw"] <= MAX_POWER_KW:
            errors.setdefault(f"{where}max_power_kw", []).append(f"Must be above 0 and at most {MAX_POWER_KW:g}.")
        connectors = charger.get("connectors") or []
        if not connectors:
            errors.setdefault(f"{where}connectors", []).append("A charger needs at least one connector.")
        numbers = [connector["number"] for connector in connectors]
        for c_index, connector in enumerate(connectors):
            c_where = f"{where}connectors.{c_index}."
            if numbers.count(connector["number"]) > 1:
                errors.setdefault(f"{c_where}number", []).append("Connector numbers must be unique on a charger.")
            if connector["type"] not in CONNECTOR_TYPES:
                errors.setdefault(f"{c_where}type", []).append(f"Choose one of {', '.join(CONNECTOR_TYPES)}.")
            power = connector.get("max_power_kw")
            if power is not None and not 0 < power <= charger["max_power_kw"]:
                errors.setdefault(f"{c_where}max_power_kw", []).append(
                    "Must be above 0 and at most the charger's max_power_kw."
                )
    if errors:
        raise InvalidInput("Invalid chargers.", errors=errors)
    taken = set(Charger.objects.filter(serial__in=serials).values_list("serial", flat=True))
    if taken:
        raise Conflict(
            "A charger with this serial exists already.",
            errors={f"{prefix}{i}.serial": ["Already registered."] for i, s in enumerate(serials) if s in taken},
        )


def _create_chargers(station: Station, chargers: Iterable[dict[str, Any]]) -> list[Charger]:
    created = []
    try:
        with transaction.atomic():
            for spec in chargers:
                charger = Charger.objects.create(
                    station=station, serial=spec["serial"], max_power_kw=spec["max_power_kw"]
                )
                for connector in spec["connectors"]:
                    Connector.objects.create(
                        charger=charger,
                        number=connector["number"],
                        type=connector["type"],
                        max_power_kw=connector.get("max_power_kw") or spec["max_power_kw"],
                        code=new_connector_code(),
                        status=AVAILABLE,
                        status_changed_at=dj_timezone.now(),
                    )
                created.append(charger)
    except IntegrityError as exc:  # a concurrent request took a serial (or, once in 10^12, a code)
        raise Conflict("A charger with this serial exists already; try again.") from exc
    return created


# --- events ---


def charger_info(charger: Charger) -> ChargerInfo:
    """A charger and its connectors as the events (and the facade) carry them."""
    return ChargerInfo(
        charger_id=charger.id,
        serial=charger.serial,
        max_power_kw=charger.max_power_kw,
        connectors=[
            ConnectorInfo(
                connector_id=c.id,
                number=c.number,
                type=c.type,
                max_power_kw=c.max_power_kw,
                status=c.status,
                code=c.code,
            )
            for c in charger.connectors.all()
        ],
    )


def _next_version(station_id: UUID) -> int:
    """The station's next version, for the event about to be published in this transaction."""
    Station.objects.filter(id=station_id).update(version=F("version") + 1)
    return Station.objects.filter(id=station_id).values_list("version", flat=True).get()


def _station_state(station_id: UUID) -> dict[str, Any]:
    """The full current state both station.created.v1 and station.updated.v1 carry, with the station's next
    version (call it only to publish)."""
    version = _next_version(station_id)
    station = selectors.station_get(station_id)
    assert station is not None
    return {
        "station_id": station.id,
        "operator_id": station.operator_id,
        "name": station.name,
        "timezone": station.timezone,
        "location": Location(latitude=station.latitude, longitude=station.longitude, address=station.address),
        "chargers": [charger_info(charger) for charger in station.chargers.all()],
        "enabled": station.enabled,
        "reservable": station.reservable,
        "status": station.status,
        "version": version,
    }


def _refresh_station_status(station: Station) -> bool:
    """Recomputes the derived status (the caller holds the station's row lock). True if it changed."""
    status = derive_station_status(
        enabled=station.enabled, connector_statuses=selectors.connector_statuses_of_station(station.id)
    )
    if status == station.status:
        return False
    station.status = status
    station.save(update_fields=["status", "updated_at"])
    return True


def _station_for_write(station_id: UUID, by: Actor) -> Station:
    station = Station.objects.select_for_update().filter(id=station_id).first()
    if station is None:
        raise NotFound("No such station.")
    if not by.manages(station.operator_id):
        raise NotAllowed("Only the station's operator or an admin may change it.")
    return station


# --- use cases ---


@transaction.atomic
def station_create(
    *,
    name: str,
    latitude: float,
    longitude: float,
    timezone: str = "UTC",
    address: str = "",
    chargers: list[dict[str, Any]] | None = None,
    operator_id: UUID | None = None,
    by: Actor,
) -> Station:
    """Operators create for their own operator; admins name the operator."""
    if by.is_admin:
        if operator_id is None:
            raise InvalidInput("Admins must name the operator.", errors={"operator_id": ["Required for admins."]})
    elif by.is_operator and by.operator_id is not None:
        if operator_id is not None and operator_id != by.operator_id:
            raise NotAllowed("Operators create stations for their own operator only.")
        operator_id = by.operator_id
    else:
        raise NotAllowed("Only operators and admins create stations.")
    if not identity_contract.facade().operator_exists(operator_id):
        raise InvalidInput("No such operator.", errors={"operator_id": ["No such operator."]})
    _check_coordinates(latitude, longitude)
    _check_timezone(timezone)
    chargers = chargers or []
    _check_chargers(chargers, prefix="chargers.")

    station = Station.objects.create(
        operator_id=operator_id,
        name=name,
        address=address,
        latitude=latitude,
        longitude=longitude,
        timezone=timezone,
    )
    _create_chargers(station, chargers)
    _refresh_station_status(station)
    publish(StationCreated(**_station_state(station.id)), subject=str(station.id))
    logger.info("station created", extra={"station_id": str(station.id), "operator_id": str(operator_id)})
    return station


@transaction.atomic
def station_update(*, station_id: UUID, by: Actor, **fields: Any) -> Station:
    """Changes name, address, coordinates or time zone; publishes station.updated.v1 naming what changed."""
    unknown = set(fields) - set(UPDATABLE_STATION_FIELDS)
    if unknown:
        raise InvalidInput("These fields cannot be changed.", errors={f: ["Read-only."] for f in sorted(unknown)})
    station = _station_for_write(station_id, by)
    _check_coordinates(fields.get("latitude"), fields.get("longitude"))
    if "timezone" in fields:
        _check_timezone(fields["timezone"])
    changed = [name for name in UPDATABLE_STATION_FIELDS if name in fields and getattr(station, name) != fields[name]]
    if changed:
        for name in changed:
            setattr(station, name, fields[name])
        station.save(update_fields=[*changed, "updated_at"])
        publish(StationUpdated(changed=changed, **_station_state(station.id)), subject=str(station.id))
    return station


@transaction.atomic
def station_announce_update(*, station_id: UUID, changed: list[str]) -> None:
    """For edits made outside station_update (the Django admin): tell the others what changed."""
    if changed:
        station = Station.objects.select_for_update().get(id=station_id)
        _refresh_station_status(station)
        publish(StationUpdated(changed=changed, **_station_state(station_id)), subject=str(station_id))


@transaction.atomic
def charger_add(
    *, station_id: UUID, serial: str, max_power_kw: float, connectors: list[dict[str, Any]], by: Actor
) -> Charger:
    station = _station_for_write(station_id, by)
    spec = {"serial": serial, "max_power_kw": max_power_kw, "connectors": connectors}
    _check_chargers([spec], prefix="")
    (charger,) = _create_chargers(station, [spec])
    changed = ["chargers"]
    if _refresh_station_status(station):
        changed.append("status")
    publish(StationUpdated(changed=changed, **_station_state(station.id)), subject=str(station.id))
    return charger


def _set_status(connector: Connector, station: Station, status: str, reason: str) -> bool:
    """Moves a locked connector to `status`; publishes station.status_changed.v1 if it really changed."""
    if status not in CONNECTOR_STATUSES:
        raise InvalidInput(
            f"Unknown connector status {status!r}.",
            errors={"status": [f"Choose one of {', '.join(CONNECTOR_STATUSES)}."]},
        )
    old_status = connector.status
    if status == old_status:
        return False
    now = dj_timezone.now()
    connector.status = status
    connector.status_changed_at = now
    connector.save(update_fields=["status", "status_changed_at", "active_session_id", "last_completed_session_id"])
    _refresh_station_status(station)
    publish(
        StationStatusChanged(
            station_id=station.id,
            charger_id=connector.charger_id,
            connector_id=connector.id,
            connector_type=connector.type,
            old_status=old_status,
            new_status=status,
            changed_at=now,
            reason=reason,
            station_status=station.status,
            version=_next_version(station.id),
        )
    )
    logger.info(
        "connector status changed",
        extra={"connector_id": str(connector.id), "old_status": old_status, "new_status": status, "reason": reason},
    )
    return True


def _lock_connector(connector_id: UUID) -> tuple[Connector, Station]:
    """Locks the station row, then the connector (always in this order, so concurrent changes of one
    station's connectors serialize and its derived status stays right)."""
    station_id = Connector.objects.filter(id=connector_id).values_list("charger__station_id", flat=True).first()
    if station_id is None:
        raise NotFound("No such connector.")
    station = Station.objects.select_for_update().get(id=station_id)
    connector = Connector.objects.select_for_update().get(id=connector_id)
    return connector, station


@transaction.atomic
def connector_set_status(*, connector_id: UUID, status: str, by: Actor, reason: str = "api") -> Connector:
    """An operator, admin or the charger (Api-Key) reports a connector's OCPP status."""
    connector, station = _lock_connector(connector_id)
    if not by.manages(station.operator_id):
        raise NotAllowed("Only the station's operator or an admin may change its connectors.")
    _set_status(connector, station, status, reason)
    return connector


@transaction.atomic
def connector_follow_session_started(*, connector_id: UUID, session_id: UUID) -> None:
    """session.started.v1 → Charging, unless the connector is Faulted/Unavailable (a human said so)
    or this session already completed (events seen out of order)."""
    try:
        connector, station = _lock_connector(connector_id)
    except NotFound:
        logger.warning("session started on an unknown connector", extra={"connector_id": str(connector_id)})
        return
    if connector.last_completed_session_id == session_id:
        return
    connector.active_session_id = session_id
    if connector.status in (FAULTED, UNAVAILABLE):
        connector.save(update_fields=["active_session_id"])
        return
    if not _set_status(connector, station, CHARGING, "session.started"):
        connector.save(update_fields=["active_session_id"])


@transaction.atomic
def connector_follow_session_completed(*, connector_id: UUID, session_id: UUID) -> None:
    """session.completed.v1 → Finishing, then Available (two station.status_changed.v1), unless the
    connector is Faulted/Unavailable or another session is charging there now."""
    try:
        connector, station = _lock_connector(connector_id)
    except NotFound:
        logger.warning("session completed on an unknown connector", extra={"connector_id": str(connector_id)})
        return
    connector.last_completed_session_id = session_id
    if connector.active_session_id not in (None, session_id):
        connector.save(update_fields=["last_completed_session_id"])
        return
    connector.active_session_id = None
    if connector.status in (FAULTED, UNAVAILABLE, AVAILABLE):
        connector.save(update_fields=["active_session_id", "last_completed_session_id"])
        return
    _set_status(connector, station, FINISHING, "session.completed")
    _set_status(connector, station, AVAILABLE, "session.completed")


@transaction.atomic
def station_apply_settings(*, station_id: UUID, enabled: bool, reservable: bool, version: int = 0) -> None:
    """station.config.updated.v1: a disabled station keeps its connectors' OCPP statuses, but reads
    `unavailable` and its connectors read Unavailable to drivers and to the facade. An older version of the
    settings than the one applied changes nothing."""
    station = Station.objects.select_for_update().filter(id=station_id).first()
    if station is None:
        logger.warning("settings for an unknown station", extra={"station_id": str(station_id)})
        return
    if version:
        if station.config_version >= version:
            return
        station.config_version = version
        station.save(update_fields=["config_version"])
    changed = [
        name for name, value in (("enabled", enabled), ("reservable", reservable)) if getattr(station, name) != value
    ]
    if not changed:
        return
    station.enabled, station.reservable = enabled, reservable
    station.save(update_fields=[*changed, "updated_at"])
    if _refresh_station_status(station):
        changed.append("status")
    publish(StationUpdated(changed=changed, **_station_state(station.id)), subject=str(station.id))


@transaction.atomic
def charger_record_health(*, charger_id: UUID, health: str, changed_at: datetime, version: int = 0) -> None:
    """charger.health_changed.v1: while a charger is offline or faulted its connectors read Unavailable (and the
    station's status follows). An older change than the one held is ignored (events may arrive out of order): by
    the charger's health version, or by time for an event without one."""
    charger = Charger.objects.filter(id=charger_id).only("station_id").first()
    if charger is None:
        logger.warning("health of an unknown charger", extra={"charger_id": str(charger_id)})
        return
    station = Station.objects.select_for_update().get(id=charger.station_id)
    charger = Charger.objects.select_for_update().get(id=charger_id)
    if version:
        if charger.health_version >= version:
            return
    elif charger.health_changed_at is not None and changed_at <= charger.health_changed_at:
        return
    charger.health, charger.health_changed_at = health, changed_at
    charger.health_version = max(charger.health_version, version)
    charger.save(update_fields=["health", "health_changed_at", "health_version"])
    if _refresh_station_status(station):
        publish(StationUpdated(changed=["status"], **_station_state(station.id)), subject=str(station.id))
