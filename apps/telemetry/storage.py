"""Set-based writes for the readings and latest-state tables: one statement per batch, never row by row.

PostgreSQL: the batch is written with binary COPY (straight into the table when every reading is new, else
through a temporary table and ONE `INSERT ... SELECT ... ON CONFLICT DO NOTHING`); the latest state travels
as one array per column (binary, server-side bound) into ONE `INSERT ... ON CONFLICT DO UPDATE` whose every
group of fields only moves forward in time. SQLite (embedded mode): bulk_create(ignore_conflicts=True)
and a read-modify-write under SQLite's single writer.
"""

import weakref
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import psycopg
from django.db import connection, transaction
from django.db.models import Q

from apps.telemetry.models import CHARGER_LEVEL, KIND_BY_NAME, Charger, LatestState, Reading
from apps.telemetry.readings import ReadingIn

READING_COLUMNS = (
    "ts",
    "charger_id",
    "connector_id",
    "kind",
    "energy_wh",
    "power_w",
    "voltage_v",
    "current_a",
    "soc_pct",
    "temperature_c",
    "error_code",
    "status",
)
# A batch of new readings is COPYed straight into telemetry_reading. A batch holding a reading already stored
# fails that COPY on the primary key; it is then COPYed into a per-session temporary table and moved out with ONE
# INSERT ... SELECT ... ON CONFLICT DO NOTHING, in key order so that concurrent batches sharing keys wait on
# each other instead of deadlocking. Statements are built from the constant column lists here.
BATCH_TABLE_SQL = (
    "CREATE TEMP TABLE IF NOT EXISTS telemetry_reading_batch "
    "(LIKE telemetry_reading INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
COPY_READINGS_SQL = f"COPY telemetry_reading ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
COPY_BATCH_SQL = f"COPY telemetry_reading_batch ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
COPY_BATCH_TYPES = ("timestamptz", "uuid", "uuid", "int2", "int8", "int4", "float8", "float8", "float8", "float8")
COPY_BATCH_TYPES += ("text", "text")
INSERT_READINGS_SQL = (
    f"WITH batch AS (DELETE FROM telemetry_reading_batch RETURNING {', '.join(READING_COLUMNS)}) "  # noqa: S608
    f"INSERT INTO telemetry_reading ({', '.join(READING_COLUMNS)}) "
    f"SELECT {', '.join(READING_COLUMNS)} FROM batch "
    "ORDER BY ts, charger_id, connector_id, kind "
    "ON CONFLICT DO NOTHING"
)

METER_FIELDS = ("energy_wh", "power_w", "voltage_v", "current_a", "soc_pct", "temperature_c")


def _newer(group: str) -> str:
    return f"(excluded.{group}_ts IS NOT NULL AND (t.{group}_ts IS NULL OR excluded.{group}_ts >= t.{group}_ts))"


def _take_if_newer(group: str, columns: tuple[str, ...]) -> str:
    return ", ".join(
        f"{column} = CASE WHEN {_newer(group)} THEN excluded.{column} ELSE t.{column} END"
        for column in (f"{group}_ts", *columns)
    )


LATEST_COLUMNS = (
    "charger_id",
    "connector_id",
    "station_id",
    "last_ts",
    "meter_ts",
    *METER_FIELDS,
    "status_ts",
    "status",
    "fault_ts",
    "error_code",
)
LATEST_TYPES = (
    "uuid",
    "uuid",
    "uuid",
    "timestamptz",
    "timestamptz",
    "bigint",
    "integer",
    "float8",
    "float8",
    "float8",
    "float8",
    "timestamptz",
    "text",
    "timestamptz",
    "text",
)
UPSERT_LATEST_SQL = (
    f"INSERT INTO telemetry_lateststate AS t ({', '.join(LATEST_COLUMNS)}) "  # noqa: S608
    f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in LATEST_TYPES)}) "
    "ON CONFLICT (charger_id, connector_id) DO UPDATE SET "
    "last_ts = GREATEST(t.last_ts, excluded.last_ts), "
    f"{_take_if_newer('meter', METER_FIELDS)}, "
    f"{_take_if_newer('status', ('status',))}, "
    f"{_take_if_newer('fault', ('error_code',))} "
    f"WHERE excluded.last_ts >= t.last_ts OR {_newer('meter')} OR {_newer('status')} OR {_newer('fault')}"
)


@dataclass
class LatestDraft:
    """The newest values one batch holds for one charger/connector."""

    charger_id: UUID
    connector_id: UUID
    station_id: UUID
    last_ts: datetime
    meter_ts: datetime | None = None
    meter: ReadingIn | None = None
    status_ts: datetime | None = None
    status: str | None = None
    fault_ts: datetime | None = None
    error_code: str | None = None

    def take(self, reading: ReadingIn) -> None:
        ts = reading.ts
        if ts > self.last_ts:
            self.last_ts = ts
        if reading.kind == "meter" and (self.meter_ts is None or ts >= self.meter_ts):
            self.meter_ts, self.meter = ts, reading
        if reading.status is not None and (self.status_ts is None or ts >= self.status_ts):
            self.status_ts, self.status = ts, reading.status
        if reading.kind == "fault" and (self.fault_ts is None or ts >= self.fault_ts):
            self.fault_ts, self.error_code = ts, reading.error_code

    def as_row(self) -> tuple:
        return (
            self.charger_id,
            self.connector_id,
            self.station_id,
            self.last_ts,
            self.meter_ts,
            *(getattr(self.meter, name, None) for name in METER_FIELDS),
            self.status_ts,
            self.status,
            self.fault_ts,
            self.error_code,
        )


def latest_drafts(readings: list[ReadingIn], station_of: dict[UUID, UUID]) -> list[LatestDraft]:
    drafts: dict[tuple[UUID, UUID], LatestDraft] = {}
    for reading in readings:
        key = (reading.charger_id, reading.connector_id or CHARGER_LEVEL)
        draft = drafts.get(key)
        if draft is None:
            draft = drafts[key] = LatestDraft(
                charger_id=key[0], connector_id=key[1], station_id=station_of[key[0]], last_ts=reading.ts
            )
        draft.take(reading)
    # A fixed order, so that concurrent batches lock latest-state rows in the same order (no deadlock).
    return [drafts[key] for key in sorted(drafts)]


def _reading_row(r: ReadingIn) -> tuple:
    return (
        r.ts,
        r.charger_id,
        r.connector_id or CHARGER_LEVEL,
        KIND_BY_NAME[r.kind],
        r.energy_wh,
        r.power_w,
        r.voltage_v,
        r.current_a,
        r.soc_pct,
        r.temperature_c,
        r.error_code,
        r.status,
    )


def _columns(rows: list[tuple], width: int) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _server_bound_cursor() -> psycopg.Cursor:
    """A psycopg cursor on Django's connection (same transaction) that binds parameters server-side,
    so the column arrays travel in binary instead of being quoted into the SQL text."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


_sessions_with_batch_table: "weakref.WeakSet[psycopg.Connection]" = weakref.WeakSet()


def _ensure_batch_table(cursor: psycopg.Cursor) -> None:
    """Creates the session's temporary batch table once per database connection (remembered only once the
    creating transaction commits, since a rollback drops it again)."""
    session = cursor.connection
    if session in _sessions_with_batch_table:
        return
    cursor.execute(BATCH_TABLE_SQL)
    transaction.on_commit(lambda: _sessions_with_batch_table.add(session))


def insert_readings(readings: list[ReadingIn]) -> int:
    """Stores the batch once per (ts, charger, connector, kind); returns how many rows were new."""
    rows = [_reading_row(r) for r in readings]
    if connection.vendor == "postgresql":
        return _copy_new_readings(rows) or _copy_readings_deduplicated(rows)
    return _insert_readings_portable(rows)


def _copy_new_readings(rows: list[tuple]) -> int:
    """The common case, a batch of readings never seen: COPY straight into the table, in a savepoint.
    Returns 0 if some reading was already stored (the savepoint is rolled back, nothing is written).
    No deadlock: batches sharing a reading share its charger, whose row the caller has locked."""
    with _server_bound_cursor() as cursor:
        # A plain savepoint, not transaction.atomic(): left to the commit to release, it costs one round trip.
        cursor.execute("SAVEPOINT telemetry_readings_copy")
        try:
            with cursor.copy(COPY_READINGS_SQL) as copy:
                copy.set_types(COPY_BATCH_TYPES)
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT telemetry_readings_copy")
            return 0
    return len(rows)


def _copy_readings_deduplicated(rows: list[tuple]) -> int:
    """A batch with readings already stored (a charger resending): COPY into the session's temporary
    table, then ONE INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    with _server_bound_cursor() as cursor:
        _ensure_batch_table(cursor)
        with cursor.copy(COPY_BATCH_SQL) as copy:
            copy.set_types(COPY_BATCH_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(INSERT_READINGS_SQL)  # moves the rows out of the batch table
        return cursor.rowcount


def _insert_readings_portable(rows: list[tuple]) -> int:
    keys = {row[:4] for row in rows}
    existing = {
        (ts, charger, connector, kind)
        for ts, charger, connector, kind in Reading.objects.filter(
            charger_id__in={k[1] for k in keys}, ts__gte=min(k[0] for k in keys), ts__lte=max(k[0] for k in keys)
        ).values_list("ts", "charger_id", "connector_id", "kind")
    }
    Reading.objects.bulk_create(
        [Reading(**dict(zip(READING_COLUMNS, row, strict=True))) for row in rows],
        ignore_conflicts=True,
        batch_size=500,
    )
    return len(keys - existing)


def upsert_latest(drafts: list[LatestDraft], *, chargers_seen: dict[UUID, datetime]) -> None:
    """Moves the latest state forward and, in the same statement, the chargers' last_seen_at (see
    chargers_touch; the chargers' rows are locked already)."""
    if connection.vendor == "postgresql":
        latest = _columns([d.as_row() for d in drafts], len(LATEST_COLUMNS))
        with _server_bound_cursor() as cursor:
            if chargers_seen:
                touch = [list(chargers_seen), list(chargers_seen.values())]
                cursor.execute(f"WITH touched AS ({TOUCH_CHARGERS_SQL}) {UPSERT_LATEST_SQL}", [*touch, *latest])
            else:
                cursor.execute(UPSERT_LATEST_SQL, latest)
        return
    for draft in drafts:
        _upsert_latest_portable(draft)
    chargers_touch(chargers_seen)


def _upsert_latest_portable(draft: LatestDraft) -> None:
    state = (
        LatestState.objects.select_for_update()
        .filter(charger_id=draft.charger_id, connector_id=draft.connector_id)
        .first()
    )
    if state is None:
        state = LatestState(
            charger_id=draft.charger_id,
            connector_id=draft.connector_id,
            station_id=draft.station_id,
            last_ts=draft.last_ts,
        )
    state.last_ts = max(state.last_ts, draft.last_ts)
    if draft.meter_ts is not None and (state.meter_ts is None or draft.meter_ts >= state.meter_ts):
        state.meter_ts = draft.meter_ts
        for name in METER_FIELDS:
            setattr(state, name, getattr(draft.meter, name))
    if draft.status_ts is not None and (state.status_ts is None or draft.status_ts >= state.status_ts):
        state.status_ts, state.status = draft.status_ts, draft.status
    if draft.fault_ts is not None and (state.fault_ts is None or draft.fault_ts >= state.fault_ts):
        state.fault_ts, state.error_code = draft.fault_ts, draft.error_code
    state.save()


TOUCH_CHARGERS_SQL = (
    "UPDATE telemetry_charger AS c SET last_seen_at = v.seen "
    "FROM unnest(%s::uuid[], %s::timestamptz[]) AS v(charger_id, seen) "
    "WHERE c.charger_id = v.charger_id AND (c.last_seen_at IS NULL OR c.last_seen_at < v.seen)"
)


def chargers_touch(last_seen: dict[UUID, datetime]) -> None:
    """Moves last_seen_at forward for many chargers in one statement (the rows are locked already)."""
    if not last_seen:
        return
    if connection.vendor == "postgresql":
        with _server_bound_cursor() as cursor:
            cursor.execute(TOUCH_CHARGERS_SQL, [list(last_seen), list(last_seen.values())])
        return
    for charger_id, seen in last_seen.items():
        Charger.objects.filter(charger_id=charger_id).filter(
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen)
        ).update(last_seen_at=seen)
