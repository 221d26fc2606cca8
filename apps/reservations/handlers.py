"""The connector read model, kept from the stations and adminconfig contexts' events; the charger's meter
readings (telemetry) finalizing sessions that wait for one."""

from apps.reservations import services
from evcharge.contracts.adminconfig import StationConfigUpdated
from evcharge.contracts.stations import StationCreated, StationStatusChanged, StationUpdated
from evcharge.contracts.telemetry import ChargerHealthChanged, TelemetryIngested
from evcharge.events import EventEnvelope, subscriber


@subscriber("station.created.v1", consumer="reservations")
def on_station_created(event: EventEnvelope[StationCreated]) -> None:
    services.connectors_record_station(station=event.data, at=event.time)


@subscriber("station.updated.v1", consumer="reservations")
def on_station_updated(event: EventEnvelope[StationUpdated]) -> None:
    services.connectors_record_station(station=event.data, at=event.time)


@subscriber("station.status_changed.v1", consumer="reservations")
def on_station_status_changed(event: EventEnvelope[StationStatusChanged]) -> None:
    services.connector_record_status(change=event.data)


@subscriber("station.config.updated.v1", consumer="reservations")
def on_station_config_updated(event: EventEnvelope[StationConfigUpdated]) -> None:
    services.station_settings_record(update=event.data)


@subscriber("telemetry.ingested.v1", consumer="reservations")
def on_telemetry_ingested(event: EventEnvelope[TelemetryIngested]) -> None:
    if event.data.connector_ids:
        services.sessions_finalize_awaiting(connector_ids=event.data.connector_ids)


@subscriber("charger.health_changed.v1", consumer="reservations")
def on_charger_health_changed(event: EventEnvelope[ChargerHealthChanged]) -> None:
    services.charger_health_record(
        charger_id=event.data.charger_id,
        health=event.data.new_health,
        changed_at=event.data.changed_at,
        version=event.data.version,
    )
