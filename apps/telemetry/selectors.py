from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, QuerySet

from apps.telemetry.models import CHARGER_LEVEL, Charger, Connector, DailyRollup, Kind, LatestState, Reading


def connector_owners(connector_ids: set[UUID]) -> dict[UUID, UUID]:
    """connector id -> its charger id, for the connectors telemetry knows."""
    return dict(Connector.objects.filter(connector_id__in=connector_ids).values_list("connector_id", "charger_id"))


def chargers_locked_for_batch(
    charger_ids: set[UUID], connector_ids: set[UUID]
) -> tuple[dict[UUID, Charger], dict[UUID, UUID]]:
    """The batch's known chargers, their rows locked in id order (every writer locks in that order, so
    concurrent batches queue instead of deadlocking), and connector id -> charger id for the batch's known
    connectors. PostgreSQL answers both in one query."""
    chargers = Charger.objects.select_for_update().filter(charger_id__in=charger_ids).order_by("charger_id")
    if connection.vendor != "postgresql" or not connector_ids:
        return {c.charger_id: c for c in chargers}, connector_owners(connector_ids) if connector_ids else {}
    chargers = chargers.select_for_update(of=("self",)).annotate(
        batch_connector_ids=ArraySubquery(
            Connector.objects.filter(charger_id=OuterRef("charger_id"), connector_id__in=connector_ids).values(
                "connector_id"
            )
        )
    )
    by_id, owners = {}, {}
    for charger in chargers:
        by_id[charger.charger_id] = charger
        for connector_id in charger.batch_connector_ids or ():
            owners[connector_id] = charger.charger_id
    return by_id, owners


def chargers_of_operator(operator_id: UUID) -> QuerySet[Charger]:
    return Charger.objects.filter(operator_id=operator_id).order_by("station_name", "serial")


def connectors_of_charger(charger_id: UUID) -> QuerySet[Connector]:
    return Connector.objects.filter(charger_id=charger_id).order_by("number")


@dataclass(frozen=True)
class ConnectorLatest:
    connector: Connector
    state: LatestState | None


@dataclass(frozen=True)
class ChargerLatest:
    charger: Charger
    state: LatestState | None  # charger-level events (heartbeats, charger faults)
    connectors: list[ConnectorLatest]


def station_latest(station_id: UUID) -> list[ChargerLatest] | None:
    """Latest state and health of every charger and connector of a station; None if telemetry does not
    know the station. Three queries, whatever the station's size."""
    chargers = list(Charger.objects.filter(station_id=station_id).order_by("serial", "charger_id"))
    if not chargers:
        return None
    connectors = list(Connector.objects.filter(station_id=station_id).order_by("number"))
    states = {(s.charger_id, s.connector_id): s for s in LatestState.objects.filter(station_id=station_id)}
    result = []
    for charger in chargers:
        result.append(
            ChargerLatest(
                charger=charger,
                state=states.get((charger.charger_id, CHARGER_LEVEL)),
                connectors=[
                    ConnectorLatest(connector=c, state=states.get((charger.charger_id, c.connector_id)))
                    for c in connectors
                    if c.charger_id == charger.charger_id
                ],
            )
        )
    return result


def last_meter_state(connector_id: UUID) -> LatestState | None:
    return (
        LatestState.objects.filter(connector_id=connector_id, meter_ts__isnull=False)
        .order_by("-meter_ts")
        .only("connector_id", "meter_ts", "energy_wh", "power_w")
        .first()
    )


def first_meter_reading(*, connector_id: UUID, since: datetime) -> Reading | None:
    """The connector's earliest stored meter reading at or after `since` (the ts-leading key serves it)."""
    return (
        Reading.objects.filter(ts__gte=since, connector_id=connector_id, kind=Kind.METER, energy_wh__isnull=False)
        .order_by("ts")
        .only("ts", "connector_id", "energy_wh", "power_w")
        .first()
    )


def rollups(*, station_id: UUID | None = None, charger_id: UUID | None = None) -> QuerySet[DailyRollup]:
    rows = DailyRollup.objects.all()
    if station_id:
        rows = rows.filter(station_id=station_id)
    if charger_id:
        rows = rows.filter(charger_id=charger_id)
    return rows
