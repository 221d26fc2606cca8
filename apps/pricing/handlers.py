"""Pricing's read model of stations and their settings, kept from other contexts' events."""

from apps.pricing import services
from evcharge.contracts.adminconfig import StationConfigUpdated
from evcharge.contracts.stations import StationCreated, StationStatusChanged, StationUpdated
from evcharge.events import EventEnvelope, subscriber


@subscriber("station.created.v1", consumer="pricing")
@subscriber("station.updated.v1", consumer="pricing")
def on_station_changed(event: EventEnvelope[StationCreated | StationUpdated]) -> None:
    data = event.data
    services.known_station_upsert(
        station_id=data.station_id,
        operator_id=data.operator_id,
        name=data.name,
        enabled=data.enabled,
        chargers=data.chargers,
        as_of=event.time,
        version=data.version,
    )


@subscriber("station.status_changed.v1", consumer="pricing")
def on_connector_status_changed(event: EventEnvelope[StationStatusChanged]) -> None:
    data = event.data
    services.known_connector_status_record(
        station_id=data.station_id,
        charger_id=data.charger_id,
        connector_id=data.connector_id,
        connector_type=data.connector_type,
        new_status=data.new_status,
        changed_at=data.changed_at,
        version=data.version,
    )


@subscriber("station.config.updated.v1", consumer="pricing")
def on_station_config_updated(event: EventEnvelope[StationConfigUpdated]) -> None:
    data = event.data
    services.station_assignment_record(
        station_id=data.station_id,
        operator_id=data.operator_id,
        rate_plan_id=data.settings.rate_plan_id,
        idle_grace_min=data.settings.idle_grace_min,
        max_power_kw=data.settings.max_power_kw,
        as_of=event.time,
        version=data.version,
    )
