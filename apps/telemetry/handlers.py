from apps.telemetry import services
from evcharge.contracts.stations import StationCreated, StationUpdated
from evcharge.events import EventEnvelope, subscriber


@subscriber("station.created.v1", consumer="telemetry")
def on_station_created(event: EventEnvelope[StationCreated]) -> None:
    services.chargers_sync_from_station(station=event.data)


@subscriber("station.updated.v1", consumer="telemetry")
def on_station_updated(event: EventEnvelope[StationUpdated]) -> None:
    services.chargers_sync_from_station(station=event.data)
