"""The connector status follows charging sessions and the station settings, from events alone."""

from apps.stations import services
from evcharge.contracts.adminconfig import StationConfigUpdated
from evcharge.contracts.reservations import SessionCompleted, SessionStarted, SessionStopped
from evcharge.contracts.telemetry import ChargerHealthChanged
from evcharge.events import EventEnvelope, subscriber


@subscriber("session.started.v1", consumer="stations")
def on_session_started(event: EventEnvelope[SessionStarted]) -> None:
    services.connector_follow_session_started(connector_id=event.data.connector_id, session_id=event.data.session_id)


@subscriber("session.completed.v1", consumer="stations")
def on_session_completed(event: EventEnvelope[SessionCompleted]) -> None:
    services.connector_follow_session_completed(connector_id=event.data.connector_id, session_id=event.data.session_id)


@subscriber("session.stopped.v1", consumer="stations")
def on_session_stopped(event: EventEnvelope[SessionStopped]) -> None:
    """The connector is free as soon as the session stops, whether or not its energy is known yet."""
    services.connector_follow_session_completed(connector_id=event.data.connector_id, session_id=event.data.session_id)


@subscriber("station.config.updated.v1", consumer="stations")
def on_station_config_updated(event: EventEnvelope[StationConfigUpdated]) -> None:
    settings = event.data.settings
    services.station_apply_settings(
        station_id=event.data.station_id,
        enabled=settings.enabled,
        reservable=settings.reservable,
        version=event.data.version,
    )


@subscriber("charger.health_changed.v1", consumer="stations")
def on_charger_health_changed(event: EventEnvelope[ChargerHealthChanged]) -> None:
    services.charger_record_health(
        charger_id=event.data.charger_id,
        health=event.data.new_health,
        changed_at=event.data.changed_at,
        version=event.data.version,
    )
