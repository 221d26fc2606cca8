import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from apps.telemetry import rollup, selectors, storage
from apps.telemetry.models import (
    FAULTED,
    OFFLINE,
    ONLINE,
    Charger,
    Connector,
    DailyRollup,
    Maintenance,
    Reading,
)
from apps.telemetry.readings import FAULTED_STATUS, ReadingIn
from evcharge.actor import Actor
from evcharge.contracts import chargepoints
from evcharge.contracts.stations import StationCreated, StationUpdated
from evcharge.contracts.telemetry import MAX_METER_WH, ChargerHealthChanged, ChargerSample, TelemetryIngested
from evcharge.errors import InvalidInput, NotAllowed
from evcharge.events import publish

logger = logging.getLogger("evcharge.telemetry")

# --- the read model of chargers (from station events) ---


@transaction.atomic
def chargers_sync_from_station(*, station: StationCreated | StationUpdated) -> None:
    """Upserts the station's chargers and connectors; health and readings are left as they are. A charger whose
    data is from a newer version of the station is left as it is."""
    for info in station.chargers:
        held = Charger.objects.select_for_update().filter(charger_id=info.charger_id).first()
        if held is not None and station.version and held.station_version >= station.version:
            continue
        Charger.objects.update_or_create(
            charger_id=info.charger_id,
            defaults={
                "station_id": station.station_id,
                "operator_id": station.operator_id,
                "station_name": station.name[:200],
                "serial": info.serial[:100],
                "station_version": max(station.version, held.station_version if held else 0),
            },
        )
        for connector in info.connectors:
            Connector.objects.update_or_create(
                connector_id=connector.connector_id,
                defaults={
                    "charger_id": info.charger_id,
                    "station_id": station.station_id,
                    "number": connector.number,
                    "type": connector.type,
                },
            )


# --- ingest ---


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


def _authorize(
    readings: list[ReadingIn],
    pairs: set[tuple[UUID, UUID | None]],
    chargers: dict[UUID, Charger],
    owners: dict[UUID, UUID],
    *,
    by: Actor,
) -> None:
    """Every charger must be known (400 naming the indexes) and, for an operator caller, theirs (403 naming
    the indexes). A batch with both kinds of errors answers 400 and names all of them."""
    problems: dict[tuple, tuple[str, str, bool]] = {}  # (charger, connector) -> (field, message, is_foreign)
    for charger_id, connector_id in pairs:
        charger = chargers.get(charger_id)
        if charger is None:
            problems[charger_id, connector_id] = ("charger_id", "Unknown charger.", False)
        elif not by.manages(charger.operator_id):
            problems[charger_id, connector_id] = ("charger_id", "This charger belongs to another operator.", True)
        elif connector_id is not None and owners.get(connector_id) != charger_id:
            problems[charger_id, connector_id] = ("connector_id", "Not a connector of this charger.", False)
    if not problems:
        return
    errors: dict[str, list[str]] = {}
    only_foreign = all(is_foreign for _, _, is_foreign in problems.values())
    for r in readings:
        problem = problems.get((r.charger_id, r.connector_id))
        if problem is not None:
            errors[f"{r.index}.{problem[0]}"] = [problem[1]]
    bad = len({key.split(".")[0] for key in errors})
    if only_foreign:
        raise NotAllowed(f"{bad} events are for chargers of another operator; nothing was stored.", errors=errors)
    raise InvalidInput(f"{bad} events are invalid; nothing was stored.", errors=errors)


def _refuse_energy_of_ocpp_chargers(readings: list[ReadingIn], charger_ids: set[UUID]) -> None:
    """A charger with OCPP credentials sends its meter over OCPP (charger_samples_record): a meter reading for it
    from the API would be its operator's word for the energy billed, so the batch is refused (400 naming them)."""
    if not chargepoints.registered():
        return
    speaks_ocpp = chargepoints.facade().links(sorted(charger_ids)).keys()
    if not speaks_ocpp:
        return
    errors = {
        f"{r.index}.energy_wh": ["This charger reports its meter over OCPP; its energy is taken only from there."]
        for r in readings
        if r.energy_wh is not None and r.charger_id in speaks_ocpp
    }
    if errors:
        raise InvalidInput(
            f"{len(errors)} events carry energy of chargers that report it over OCPP; nothing was stored.",
            errors=errors,
            code="energy_from_ocpp_only",
        )


@transaction.atomic
def telemetry_ingest(*, readings: list[ReadingIn], by: Actor, over_ocpp: bool = False) -> IngestResult:
    """Stores a validated batch (duplicates once), moves the latest state forward, updates health, and
    publishes one telemetry.ingested.v1 for the batch plus charger.health_changed.v1 per changed charger.
    `over_ocpp`: the OCPP gateway's batch (the charger itself); else the API's (its operator)."""
    # The chargers' rows are locked first, in id order, by every writer: concurrent batches for the same
    # chargers queue here instead of deadlocking later on readings or latest-state rows.
    pairs = {(r.charger_id, r.connector_id) for r in readings}
    charger_ids = {charger_id for charger_id, _ in pairs}
    connector_ids = {connector_id for _, connector_id in pairs if connector_id is not None}
    chargers, owners = selectors.chargers_locked_for_batch(charger_ids, connector_ids)
    _authorize(readings, pairs, chargers, owners, by=by)
    if not over_ocpp:
        _refuse_energy_of_ocpp_chargers(readings, charger_ids)
    accepted = storage.insert_readings(readings)
    station_of = {charger_id: charger.station_id for charger_id, charger in chargers.items()}
    chargers_seen = _health_apply(readings, chargers)
    storage.upsert_latest(storage.latest_drafts(readings, station_of), chargers_seen=chargers_seen)
    if accepted:
        publish(
            TelemetryIngested(
                batch_id=uuid.uuid4(),
                charger_ids=sorted(charger_ids),
                connector_ids=sorted(connector_ids),
                count=accepted,
                first_ts=min(r.ts for r in readings),
                last_ts=max(r.ts for r in readings),
            )
        )
    return IngestResult(accepted=accepted, duplicates=len(readings) - accepted)


# --- from the OCPP gateway (the chargepoints context authenticated the charger) ---


def charger_samples_record(*, charger_id: UUID, samples: list[ChargerSample]) -> int:
    """Stores what a charger sent over OCPP (MeterValues, transaction data) like an API batch of its operator's
    key. Values out of range are dropped with a log line (a charger's bug must not stop its other values).
    Returns how many were stored."""
    return charger_samples_record_many(batches={charger_id: samples})


def charger_samples_record_many(*, batches: dict[UUID, list[ChargerSample]]) -> int:
    """The samples of many chargers in one ingest (one transaction, one telemetry.ingested.v1): the gateway
    gathers the MeterValues that arrive together. Samples of a charger or connector telemetry does not know
    (yet: the station's events may still be on their way) are dropped with a log line, the rest stored."""
    connector_ids = {s.connector_id for samples in batches.values() for s in samples if s.connector_id is not None}
    owners = selectors.connector_owners(connector_ids)
    known = set(Charger.objects.filter(charger_id__in=list(batches)).values_list("charger_id", flat=True))
    readings = []
    for charger_id, samples in batches.items():
        if charger_id not in known:
            logger.warning(
                "OCPP values of a charger telemetry does not know dropped", extra={"charger": str(charger_id)}
            )
            continue
        for sample in samples:
            if sample.energy_wh is not None and not 0 <= sample.energy_wh <= MAX_METER_WH:
                logger.warning("OCPP meter value out of range dropped", extra={"charger": str(charger_id)})
                continue
            if sample.connector_id is not None and owners.get(sample.connector_id) != charger_id:
                logger.warning(
                    "OCPP value for a connector not of this charger dropped", extra={"charger": str(charger_id)}
                )
                continue
            readings.append(
                ReadingIn(
                    index=len(readings),
                    charger_id=charger_id,
                    connector_id=sample.connector_id,
                    ts=sample.ts,
                    kind="meter",
                    energy_wh=sample.energy_wh,
                    power_w=sample.power_w,
                    voltage_v=sample.voltage_v,
                    current_a=sample.current_a,
                    soc_pct=sample.soc_pct,
                )
            )
    return _ingest_from_charger(readings)


def charger_fault_record(*, charger_id: UUID, connector_id: UUID | None, error_code: str, at: datetime) -> int:
    fault = ReadingIn(
        index=0, charger_id=charger_id, connector_id=connector_id, ts=at, kind="fault", error_code=error_code[:50]
    )
    return _ingest_from_charger([fault])


def _ingest_from_charger(readings: list[ReadingIn]) -> int:
    if not readings:
        return 0
    try:
        return telemetry_ingest(readings=readings, by=Actor.system(), over_ocpp=True).accepted
    except InvalidInput:  # the station's events have not reached telemetry yet, or a connector it does not know
        chargers = sorted({str(r.charger_id) for r in readings})
        logger.warning("OCPP values of chargers telemetry does not know dropped", extra={"chargers": chargers})
        return 0


@transaction.atomic
def charger_link_record(*, charger_id: UUID, connected: bool, at: datetime) -> None:
    """The charger's OCPP link came up (in contact from now on) or went down (offline at once, not after the
    telemetry silence window); charger.health_changed.v1 once per real change."""
    charger = Charger.objects.select_for_update().filter(charger_id=charger_id).first()
    if charger is None:
        logger.warning("OCPP link of a charger telemetry does not know yet", extra={"charger": str(charger_id)})
        return
    charger.ocpp_connected = connected
    if connected and (charger.last_seen_at is None or at > charger.last_seen_at):
        charger.last_seen_at = at
    now = timezone.now()
    health, reason = _health_for(charger, now) if connected else (OFFLINE, "OCPP link down")
    if health != charger.health:
        _change_health(charger, health, reason, now)
    charger.save(update_fields=[*HEALTH_FIELDS, "ocpp_connected"])


# --- health ---


def _health_for(charger: Charger, now: datetime) -> tuple[str, str]:
    """online / faulted while the charger is in contact (an OCPP link, or a recent reading); offline once it has
    been silent too long."""
    if charger.ocpp_connected:
        return (
            (FAULTED, charger.health_reason or "fault reported") if charger.fault_active else (ONLINE, "OCPP link up")
        )
    silent_after = now - timedelta(seconds=settings.TELEMETRY_OFFLINE_AFTER_SECONDS)
    if charger.last_seen_at is None or charger.last_seen_at < silent_after:
        seconds = settings.TELEMETRY_OFFLINE_AFTER_SECONDS
        return OFFLINE, "never seen" if charger.last_seen_at is None else f"no contact for over {seconds}s"
    if charger.fault_active:
        return FAULTED, charger.health_reason if charger.health == FAULTED else "fault reported"
    return ONLINE, "in contact"


def _fault_transition(charger: Charger, reading: ReadingIn) -> str | None:
    """Applies one fault/status event newer than the last one seen; returns the reason if it counted.
    A fault event or a Faulted status raises the fault; any later status other than Faulted clears it."""
    if reading.kind == "fault" or reading.status == FAULTED_STATUS:
        raising = True
    elif reading.kind == "status":
        raising = False
    else:
        return None
    if charger.fault_ts is not None and reading.ts < charger.fault_ts:
        return None
    charger.fault_ts = reading.ts
    charger.fault_active = raising
    if reading.kind == "fault":
        return f"fault {reading.error_code}"
    return f"status {reading.status}"


def _change_health(charger: Charger, health: str, reason: str, now: datetime) -> None:
    old = charger.health
    charger.health, charger.health_reason, charger.health_changed_at = health, reason[:200], now
    charger.health_version += 1  # saved with the health fields by the caller, under the charger's row lock
    publish(
        ChargerHealthChanged(
            charger_id=charger.charger_id,
            station_id=charger.station_id,
            old_health=old,
            new_health=health,
            reason=reason,
            changed_at=now,
            version=charger.health_version,
        )
    )


def _health_apply(readings: list[ReadingIn], chargers: dict[UUID, Charger]) -> dict[UUID, datetime]:
    """Health from a batch, on the chargers' rows locked by the caller. Returns the newer last_seen_at of
    the chargers not saved here (the common case: readings and heartbeats of a healthy charger), for the
    caller to write for the whole batch in one statement."""
    now = timezone.now()
    newest_of: dict[UUID, datetime] = {}
    fault_events: dict[UUID, list[ReadingIn]] = {}  # the few events that can raise or clear a fault
    for reading in readings:
        charger_id, ts = reading.charger_id, reading.ts
        newest = newest_of.get(charger_id)
        if newest is None or ts > newest:
            newest_of[charger_id] = ts
        if reading.kind in FAULT_KINDS or reading.status == FAULTED_STATUS:
            fault_events.setdefault(charger_id, []).append(reading)
    seen: dict[UUID, datetime] = {}
    for charger in chargers.values():
        before = (charger.health, charger.fault_active, charger.fault_ts)
        fault_reason = None
        for reading in sorted(fault_events.get(charger.charger_id, ()), key=lambda r: r.ts):
            fault_reason = _fault_transition(charger, reading) or fault_reason
        newest = newest_of[charger.charger_id]
        if charger.last_seen_at is None or newest > charger.last_seen_at:
            charger.last_seen_at = seen[charger.charger_id] = newest
        health, reason = _health_for(charger, now)
        if health == FAULTED and fault_reason:
            reason = fault_reason
        elif health == ONLINE and charger.health == FAULTED and fault_reason:
            reason = f"fault cleared ({fault_reason})"
        if health != charger.health:
            _change_health(charger, health, reason, now)
        if (charger.health, charger.fault_active, charger.fault_ts) != before:
            charger.save(update_fields=HEALTH_FIELDS)
            seen.pop(charger.charger_id, None)
    return seen


FAULT_KINDS = frozenset({"fault", "status"})
HEALTH_FIELDS = [
    "last_seen_at",
    "fault_active",
    "fault_ts",
    "health",
    "health_reason",
    "health_changed_at",
    "health_version",
]


@transaction.atomic
def charger_health_sweep(*, now: datetime | None = None) -> int:
    """Marks offline every charger silent for longer than TELEMETRY_OFFLINE_AFTER_SECONDS; returns how many."""
    now = now or timezone.now()
    silent_after = now - timedelta(seconds=settings.TELEMETRY_OFFLINE_AFTER_SECONDS)
    chargers = list(
        Charger.objects.select_for_update(skip_locked=True)
        .filter(health__in=[ONLINE, FAULTED], last_seen_at__lt=silent_after, ocpp_connected=False)
        .order_by("charger_id")
    )
    for charger in chargers:
        health, reason = _health_for(charger, now)
        _change_health(charger, health, reason, now)
    Charger.objects.bulk_update(chargers, ["health", "health_reason", "health_changed_at", "health_version"])
    return len(chargers)


# --- rollups and retention ---


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


@transaction.atomic
def rollup_compute_day(*, day: date) -> int:
    """(Re)computes the day's rollup per charger from the raw readings; returns how many chargers."""
    start, end = _day_bounds(day)
    figures = rollup.day_figures(start=start, end=end, gap_limit=settings.TELEMETRY_OFFLINE_AFTER_SECONDS)
    if not figures:
        return 0
    stations = dict(
        Charger.objects.filter(charger_id__in=[f.charger_id for f in figures]).values_list("charger_id", "station_id")
    )
    rows = [
        DailyRollup(
            day=day,
            charger_id=f.charger_id,
            station_id=stations.get(f.charger_id, f.charger_id),
            energy_wh=f.energy_wh,
            max_power_w=f.max_power_w,
            uptime_seconds=f.uptime_seconds,
            reading_count=f.reading_count,
        )
        for f in figures
    ]
    DailyRollup.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["day", "charger_id"],
        update_fields=["station_id", "energy_wh", "max_power_w", "uptime_seconds", "reading_count", "computed_at"],
    )
    return len(rows)


def rollup_recent(*, now: datetime | None = None) -> int:
    """Keeps yesterday's and today's rollups current (the beat task)."""
    today = (now or timezone.now()).astimezone(UTC).date()
    return sum(rollup_compute_day(day=day) for day in (today - timedelta(days=1), today))


def retention_cutoff(now: datetime) -> datetime:
    """Raw readings before this UTC midnight are dropped: whole days, each rolled up first."""
    keep_from = now.astimezone(UTC).date() - timedelta(days=settings.TELEMETRY_RETENTION_DAYS)
    return datetime.combine(keep_from, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class RetentionResult:
    days_rolled_up: int
    readings_deleted: int
    rollups_deleted: int


def telemetry_retention_enforce(
    *, now: datetime | None = None, window: timedelta = timedelta(hours=1)
) -> RetentionResult:
    """Rolls up every day about to expire, then deletes its raw readings one time window per transaction
    (range deletes on ts, served by the ts-leading key and the BRIN index), then drops old rollups."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    state, _ = Maintenance.objects.get_or_create(id=1)
    start = state.purged_until
    if start is None:
        start = Reading.objects.filter(ts__lt=cutoff).aggregate(first=Min("ts"))["first"]
    days = deleted = 0
    if start is not None and start < cutoff:
        day = start.astimezone(UTC).date()
        while datetime.combine(day, time.min, tzinfo=UTC) < cutoff:
            rollup_compute_day(day=day)
            days += 1
            window_start, day_end = _day_bounds(day)
            window_start = max(window_start, start)
            while window_start < day_end:
                window_end = min(window_start + window, day_end)
                deleted += _readings_delete(start=window_start, end=window_end)
                window_start = window_end
            day += timedelta(days=1)
    Maintenance.objects.filter(id=1).update(purged_until=cutoff)
    keep_rollups_from = now.astimezone(UTC).date() - timedelta(days=settings.TELEMETRY_ROLLUP_RETENTION_DAYS)
    rollups_deleted, _ = DailyRollup.objects.filter(day__lt=keep_rollups_from).delete()
    return RetentionResult(days_rolled_up=days, readings_deleted=deleted, rollups_deleted=rollups_deleted)


@transaction.atomic
def _readings_delete(*, start: datetime, end: datetime) -> int:
    return Reading.objects.filter(ts__gte=start, ts__lt=end)._raw_delete(Reading.objects.db)
