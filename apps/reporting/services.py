"""Writes to the read model, one function per kind of fact an event tells us.

Every function is an upsert that merges what the event says into the row it concerns, in a way that does
not depend on the order events arrive in, and then moves the rollups by the fact's contribution delta
(see models.py). So a whole-stream replay, duplicates and out-of-order arrival all end in the same figures.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.reporting.models import DailyRollup, MonthlyRollup, PaymentFact, ReservationFact, SessionFact, StationDim
from apps.reporting.rollups import contribution_delta, session_contribution, zone
from evcharge.contracts.billing import (
    InvoiceGenerated,
    InvoiceUpdated,
    InvoiceVoided,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from evcharge.contracts.reservations import (
    ReservationCancelled,
    ReservationCreated,
    ReservationExpired,
    SessionCompleted,
    SessionStarted,
)
from evcharge.contracts.stations import StationCreated, StationStatusChanged, StationUpdated
from evcharge.events import EventEnvelope

# --- rollups ---

_ROLLUP_COLUMNS = ("sessions", "energy_wh", "revenue_amount", "paid_amount", "occupied_seconds")
_UPSERT_SQL = """
INSERT INTO {table}
    (station_id, operator_id, {period}, currency, sessions, energy_wh, revenue_amount, paid_amount, occupied_seconds)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (station_id, {period}, currency) DO UPDATE SET
    sessions = {table}.sessions + EXCLUDED.sessions,
    energy_wh = {table}.energy_wh + EXCLUDED.energy_wh,
    revenue_amount = {table}.revenue_amount + EXCLUDED.revenue_amount,
    paid_amount = {table}.paid_amount + EXCLUDED.paid_amount,
    occupied_seconds = {table}.occupied_seconds + EXCLUDED.occupied_seconds,
    operator_id = EXCLUDED.operator_id
"""
_UPSERT_DAILY = _UPSERT_SQL.format(table="reporting_dailyrollup", period="day")
_UPSERT_MONTHLY = _UPSERT_SQL.format(table="reporting_monthlyrollup", period="month")


def _rollup_add(*, station_id: UUID, operator_id: UUID | None, delta: list[list]) -> None:
    """Adds a contribution delta to the daily and monthly rollups, one upsert per row (atomic increments)."""
    if not delta:
        return
    monthly: dict[tuple[str, str], list[int]] = {}
    for day, currency, *values in delta:
        sums = monthly.setdefault((day[:8] + "01", currency), [0] * len(_ROLLUP_COLUMNS))
        sums[:] = [a + b for a, b in zip(sums, values, strict=True)]
    uuid_field, day_field = DailyRollup._meta.get_field("station_id"), DailyRollup._meta.get_field("day")
    station = uuid_field.get_db_prep_value(station_id, connection)
    operator = uuid_field.get_db_prep_value(operator_id, connection)

    def rows(items) -> list[tuple]:
        return [
            (station, operator, day_field.get_db_prep_value(date.fromisoformat(day), connection), currency, *values)
            for day, currency, *values in items
        ]

    with connection.cursor() as cursor:
        cursor.executemany(_UPSERT_DAILY, rows(delta))
        cursor.executemany(_UPSERT_MONTHLY, rows([[*key, *values] for key, values in monthly.items() if any(values)]))
    # rows a fact moved away from (a time zone change, a void) may now be empty: drop them
    empty = dict.fromkeys(_ROLLUP_COLUMNS, 0)
    for day, currency, *values in delta:
        if min(values) < 0:
            DailyRollup.objects.filter(station_id=station_id, day=day, currency=currency, **empty).delete()
            MonthlyRollup.objects.filter(
                station_id=station_id, month=day[:8] + "01", currency=currency, **empty
            ).delete()


def _fact_refresh(fact: SessionFact, dim: StationDim | None) -> None:
    """Recomputes the fact's contribution, moves the rollups by the difference, remembers it; saves."""
    if fact.station_id is None or dim is None:
        new: list[list] = []
    else:
        new = session_contribution(
            started_at=fact.started_at,
            ended_at=fact.ended_at,
            completed=fact.status == SessionFact.COMPLETED,
            currency=fact.currency,
            energy_wh=fact.energy_wh,
            revenue_amount=fact.revenue_amount,
            paid_amount=fact.paid_amount,
            tz_name=dim.timezone,
        )
    delta = contribution_delta(fact.applied, new)
    if delta:
        _rollup_add(station_id=fact.station_id, operator_id=dim.operator_id if dim else None, delta=delta)
    fact.applied = new
    fact.updated_at = timezone.now()
    fact.save()


def _dim_for(station_id: UUID, *, operator_id: UUID | None = None) -> StationDim:
    """The station's row, or a placeholder (UTC, not yet known) until a station event arrives."""
    dim, created = StationDim.objects.get_or_create(station_id=station_id, defaults={"operator_id": operator_id})
    if not created and dim.operator_id is None and operator_id is not None and not dim.known:
        dim.operator_id = operator_id
        dim.save(update_fields=["operator_id"])
        DailyRollup.objects.filter(station_id=station_id).update(operator_id=operator_id)
        MonthlyRollup.objects.filter(station_id=station_id).update(operator_id=operator_id)
    return dim


def _locked_fact(session_id: UUID) -> SessionFact:
    fact, _ = SessionFact.objects.select_for_update().get_or_create(session_id=session_id)
    return fact


# --- stations ---


@transaction.atomic
def station_record(*, station: StationCreated | StationUpdated, at: datetime) -> StationDim:
    """station.created.v1 / station.updated.v1 carry the full state: the newest wins (by the station's version, or
    by event time for an event without one)."""
    dim, _ = StationDim.objects.select_for_update().get_or_create(station_id=station.station_id)
    if station.version and dim.source_version >= station.version:
        return dim  # an older picture of the station than the one we hold
    if not station.version and dim.known and dim.state_at is not None and at < dim.state_at:
        return dim
    rebucket = dim.timezone != station.timezone  # a placeholder row counted in UTC until now
    new_owner = dim.operator_id != station.operator_id
    statuses: dict[str, list] = {}
    for charger in station.chargers:
        for connector in charger.connectors:
            key = str(connector.connector_id)
            held = dim.connector_statuses.get(key)
            if held and _status_is_newer(held, version=station.version, at=at):
                statuses[key] = held
            else:
                statuses[key] = [connector.status, at.isoformat(), station.version]
    dim.operator_id = station.operator_id
    dim.name = station.name
    dim.timezone = station.timezone
    dim.enabled = station.enabled
    dim.connector_count = len(statuses)
    dim.connector_statuses = statuses
    dim.known = True
    dim.state_at = at
    dim.source_version = max(dim.source_version, station.version)
    dim.updated_at = timezone.now()
    dim.save()
    if new_owner:
        DailyRollup.objects.filter(station_id=dim.station_id).update(operator_id=dim.operator_id)
        MonthlyRollup.objects.filter(station_id=dim.station_id).update(operator_id=dim.operator_id)
    if rebucket:
        _station_rebucket(dim)
    return dim


def held_version(held: list) -> int:
    return held[2] if len(held) > 2 else 0


def _status_is_newer(held: list, *, version: int, at: datetime) -> bool:
    """Whether the connector status held is newer than one of this version and time (time decides for an event
    without a version)."""
    if version:
        return held_version(held) > version
    return datetime.fromisoformat(held[1]) > at


def _station_rebucket(dim: StationDim) -> None:
    """The station's time zone changed: its sessions and reservations move to other local days."""
    for fact in SessionFact.objects.select_for_update().filter(station_id=dim.station_id).iterator():
        _fact_refresh(fact, dim)
    for reservation in ReservationFact.objects.filter(station_id=dim.station_id):
        reservation.local_day = _local_day(reservation.starts_at, dim)
        reservation.save(update_fields=["local_day"])


@transaction.atomic
def station_status_record(*, change: StationStatusChanged) -> StationDim:
    """A connector's status: the latest change wins, whatever order they arrive in (by the station's version, or by
    changed_at for an event without one)."""
    dim, _ = StationDim.objects.select_for_update().get_or_create(station_id=change.station_id)
    key = str(change.connector_id)
    held = dim.connector_statuses.get(key)
    if held and (
        _status_is_newer(held, version=change.version, at=change.changed_at) or held_version(held) == change.version > 0
    ):
        return dim
    entry = [change.new_status, change.changed_at.isoformat(), change.version]
    dim.connector_statuses = {**dim.connector_statuses, key: entry}
    if not dim.known:
        dim.connector_count = max(dim.connector_count, len(dim.connector_statuses))
    dim.updated_at = timezone.now()
    dim.save()
    return dim


# --- sessions ---


@transaction.atomic
def session_record_started(*, started: SessionStarted) -> SessionFact:
    dim = _dim_for(started.station_id, operator_id=started.operator_id)
    fact = _locked_fact(started.session_id)
    _session_identity(fact, started)
    if fact.started_at is None:
        fact.started_at = started.started_at
    if fact.status == SessionFact.UNKNOWN:
        fact.status = SessionFact.ACTIVE
    _fact_refresh(fact, dim)
    return fact


@transaction.atomic
def session_record_completed(*, completed: SessionCompleted) -> SessionFact:
    dim = _dim_for(completed.station_id, operator_id=completed.operator_id)
    fact = _locked_fact(completed.session_id)
    _session_identity(fact, completed)
    fact.started_at = completed.started_at
    fact.ended_at = completed.ended_at
    fact.energy_wh = completed.energy_wh
    fact.status = SessionFact.COMPLETED
    _fact_refresh(fact, dim)
    return fact


def _session_identity(fact: SessionFact, event: SessionStarted | SessionCompleted) -> None:
    fact.station_id = event.station_id
    fact.operator_id = event.operator_id
    fact.connector_id = event.connector_id
    fact.user_id = event.user_id
    if fact.invoice_id is None:  # the invoice's currency, once known, is the one money counts in
        fact.currency = event.tariff.currency


# --- invoices and payments ---


# Money figures come from one of two sources, never both: until billing's first invoice.updated.v1 for the
# invoice arrives (fact.invoice_version == 0), invoice.generated.v1 and the payment events build them up; from
# then on the newest invoice.updated.v1 (the invoice's whole money state) sets them, and the older kinds of
# event only fill in identity. A void, by either event, is final: a voided invoice earns nothing.


@transaction.atomic
def invoice_record(*, invoice: InvoiceGenerated) -> SessionFact:
    dim = _dim_for(invoice.station_id, operator_id=invoice.operator_id)
    fact = _locked_fact(invoice.session_id)
    if fact.station_id is None:
        fact.station_id = invoice.station_id
        fact.user_id = invoice.user_id
    fact.invoice_id = invoice.invoice_id
    if fact.invoice_version == 0:
        fact.currency = invoice.currency
        fact.revenue_amount = 0 if fact.invoice_voided else invoice.total_amount
        fact.discount_amount = invoice.discount_amount
        fact.paid_amount = _paid_amount(invoice.invoice_id)
    _fact_refresh(fact, dim)
    return fact


@transaction.atomic
def invoice_update_record(*, invoice: InvoiceUpdated) -> SessionFact:
    """invoice.updated.v1: sets the session's money to the invoice's state when this version is newer than the
    one applied; an older or repeated version changes nothing."""
    dim = _dim_for(invoice.station_id, operator_id=invoice.operator_id)
    fact = _locked_fact(invoice.session_id)
    if invoice.version <= fact.invoice_version:
        return fact
    if fact.station_id is None:
        fact.station_id = invoice.station_id
        fact.user_id = invoice.user_id
    if fact.operator_id is None:
        fact.operator_id = invoice.operator_id
    fact.invoice_id = invoice.invoice_id
    fact.invoice_version = invoice.version
    fact.invoice_status = invoice.status
    fact.invoice_voided = fact.invoice_voided or invoice.status == "void"
    fact.currency = invoice.currency
    fact.revenue_amount = 0 if fact.invoice_voided else invoice.total_amount
    fact.discount_amount = invoice.discount_amount
    fact.paid_amount = invoice.paid_amount
    _fact_refresh(fact, dim)
    return fact


@transaction.atomic
def invoice_void_record(*, voided: InvoiceVoided) -> SessionFact:
    """A voided invoice earns nothing, even if its invoice.generated.v1 or an older invoice.updated.v1 arrives
    afterwards."""
    fact = _locked_fact(voided.session_id)
    fact.invoice_id = voided.invoice_id
    fact.invoice_voided = True
    fact.revenue_amount = 0
    _fact_refresh(fact, _dim_for(fact.station_id) if fact.station_id else None)
    return fact


def _paid_amount(invoice_id: UUID) -> int:
    totals = PaymentFact.objects.filter(invoice_id=invoice_id).aggregate(
        captured=Sum("amount", filter=Q(status__in=[PaymentFact.SUCCEEDED, PaymentFact.REFUNDED])),
        refunded=Sum("refunded_amount"),
    )
    return (totals["captured"] or 0) - (totals["refunded"] or 0)


@transaction.atomic
def payment_record(
    *,
    payment_id: UUID,
    invoice_id: UUID,
    status: str,
    currency: str,
    captured_amount: int | None = None,
    refunded_amount: int | None = None,
    reason: str = "",
) -> PaymentFact:
    """payment.succeeded/failed/refunded: the most advanced status wins; amounts merge by kind."""
    payment, _ = PaymentFact.objects.select_for_update().get_or_create(
        payment_id=payment_id, defaults={"invoice_id": invoice_id, "status": status, "currency": currency}
    )
    if PaymentFact.PRECEDENCE[status] >= PaymentFact.PRECEDENCE.get(payment.status, 0):
        payment.status = status
    if captured_amount is not None:
        payment.amount = captured_amount
    if refunded_amount is not None:
        payment.refunded_amount = refunded_amount
    if reason:
        payment.reason = reason
    payment.currency = payment.currency or currency
    payment.updated_at = timezone.now()
    payment.save()
    fact = SessionFact.objects.select_for_update().filter(invoice_id=invoice_id, invoice_version=0).first()
    if fact is not None:  # otherwise the invoice event, when it comes, picks the payment up
        fact.paid_amount = _paid_amount(invoice_id)
        _fact_refresh(fact, _dim_for(fact.station_id) if fact.station_id else None)
    return payment


# --- reservations ---


def _local_day(moment: datetime | None, dim: StationDim) -> date | None:
    return moment.astimezone(zone(dim.timezone)).date() if moment else None


@transaction.atomic
def reservation_record(
    *,
    reservation_id: UUID,
    station_id: UUID,
    connector_id: UUID,
    user_id: UUID,
    status: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> ReservationFact:
    dim = _dim_for(station_id)
    reservation, _ = ReservationFact.objects.select_for_update().get_or_create(
        reservation_id=reservation_id,
        defaults={"station_id": station_id, "connector_id": connector_id, "user_id": user_id, "status": status},
    )
    if ReservationFact.PRECEDENCE[status] >= ReservationFact.PRECEDENCE.get(reservation.status, 0):
        reservation.status = status
    if starts_at is not None:
        reservation.starts_at, reservation.ends_at = starts_at, ends_at
        reservation.local_day = _local_day(starts_at, dim)
    reservation.updated_at = timezone.now()
    reservation.save()
    return reservation


# --- applying an envelope (handlers and the rebuild share this) ---


def _on_reservation(status: str) -> Callable[[EventEnvelope], Any]:
    def apply(envelope: EventEnvelope) -> Any:
        data = envelope.data
        return reservation_record(
            reservation_id=data.reservation_id,
            station_id=data.station_id,
            connector_id=data.connector_id,
            user_id=data.user_id,
            status=status,
            starts_at=getattr(data, "starts_at", None),
            ends_at=getattr(data, "ends_at", None),
        )

    return apply


APPLIERS: dict[str, Callable[[EventEnvelope], Any]] = {
    StationCreated.TYPE: lambda e: station_record(station=e.data, at=e.time),
    StationUpdated.TYPE: lambda e: station_record(station=e.data, at=e.time),
    StationStatusChanged.TYPE: lambda e: station_status_record(change=e.data),
    ReservationCreated.TYPE: _on_reservation(ReservationFact.CONFIRMED),
    ReservationCancelled.TYPE: _on_reservation(ReservationFact.CANCELLED),
    ReservationExpired.TYPE: _on_reservation(ReservationFact.EXPIRED),
    SessionStarted.TYPE: lambda e: session_record_started(started=e.data),
    SessionCompleted.TYPE: lambda e: session_record_completed(completed=e.data),
    InvoiceGenerated.TYPE: lambda e: invoice_record(invoice=e.data),
    InvoiceUpdated.TYPE: lambda e: invoice_update_record(invoice=e.data),
    InvoiceVoided.TYPE: lambda e: invoice_void_record(voided=e.data),
    PaymentSucceeded.TYPE: lambda e: payment_record(
        payment_id=e.data.payment_id,
        invoice_id=e.data.invoice_id,
        status=PaymentFact.SUCCEEDED,
        currency=e.data.currency,
        captured_amount=e.data.amount,
    ),
    PaymentFailed.TYPE: lambda e: payment_record(
        payment_id=e.data.payment_id,
        invoice_id=e.data.invoice_id,
        status=PaymentFact.FAILED,
        currency=e.data.currency,
        reason=e.data.reason,
    ),
    PaymentRefunded.TYPE: lambda e: payment_record(
        payment_id=e.data.payment_id,
        invoice_id=e.data.invoice_id,
        status=PaymentFact.REFUNDED,
        currency=e.data.currency,
        refunded_amount=e.data.amount,
        reason=e.data.reason,
    ),
}


def event_apply(*, envelope: EventEnvelope) -> None:
    """Applies one event of a type the read model follows (others are ignored)."""
    applier = APPLIERS.get(envelope.type)
    if applier is not None:
        applier(envelope)


_ROLLUPS_FROM_FACTS_SQL = """
INSERT INTO reporting_dailyrollup (station_id, operator_id, day, currency, {sums})
SELECT fact.station_id, dim.operator_id, (share->>0)::date, share->>1,
       {share_sums}
FROM reporting_sessionfact fact
JOIN reporting_stationdim dim ON dim.station_id = fact.station_id
CROSS JOIN LATERAL jsonb_array_elements(fact.applied) AS share
GROUP BY fact.station_id, dim.operator_id, (share->>0)::date, share->>1
"""
_MONTHLY_FROM_DAILY_SQL = """
INSERT INTO reporting_monthlyrollup (station_id, operator_id, month, currency, {sums})
SELECT station_id, operator_id, date_trunc('month', day)::date, currency, {daily_sums}
FROM reporting_dailyrollup
GROUP BY station_id, operator_id, date_trunc('month', day)::date, currency
"""


@transaction.atomic
def rollups_rebuild_from_facts() -> int:
    """The bulk path (PostgreSQL): replaces every rollup with the sum of what the facts say they contribute
    (`applied`, computed by rollups.session_contribution like the event path). Returns the rows written."""
    sums = ", ".join(_ROLLUP_COLUMNS)
    share_sums = ", ".join(f"sum((share->>{i + 2})::bigint)" for i in range(len(_ROLLUP_COLUMNS)))
    daily_sums = ", ".join(f"sum({column})" for column in _ROLLUP_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reporting_dailyrollup, reporting_monthlyrollup")
        cursor.execute(_ROLLUPS_FROM_FACTS_SQL.format(sums=sums, share_sums=share_sums))
        written = cursor.rowcount
        cursor.execute(_MONTHLY_FROM_DAILY_SQL.format(sums=sums, daily_sums=daily_sums))
        return written


READ_MODEL = (DailyRollup, MonthlyRollup, SessionFact, PaymentFact, ReservationFact, StationDim)


@transaction.atomic
def read_model_clear() -> None:
    """Empties every read-model table (the rebuild then replays the event history). DELETE, not TRUNCATE: readers
    keep seeing the old rows until the rebuild commits."""
    for model in READ_MODEL:
        model.objects.all().delete()
