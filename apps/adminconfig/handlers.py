from apps.adminconfig import selectors, services
from evcharge.contracts.adminconfig import ConfigChanged
from evcharge.contracts.stations import StationCreated, StationUpdated
from evcharge.events import EventEnvelope, subscriber


@subscriber("station.created.v1", consumer="adminconfig")
@subscriber("station.updated.v1", consumer="adminconfig")
def on_station_changed(event: EventEnvelope[StationCreated | StationUpdated]) -> None:
    station = event.data
    services.station_settings_seed(
        station_id=station.station_id,
        operator_id=station.operator_id,
        station_name=station.name,
        version=station.version,
    )


@subscriber("config.changed.v1", consumer="adminconfig")
def on_config_changed(event: EventEnvelope[ConfigChanged]) -> None:
    if event.data.key.startswith("flags."):
        selectors.flag_cache.invalidate()
