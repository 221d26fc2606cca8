from apps.adminconfig import selectors, services
from evcharge.contracts.adminconfig import ConfigChanged
from evcharge.contracts.stations import StationCreated
from evcharge.events import EventEnvelope, subscriber


@subscriber("station.created.v1", consumer="adminconfig")
def on_station_created(event: EventEnvelope[StationCreated]) -> None:
    station = event.data
    services.station_settings_seed(
        station_id=station.station_id, operator_id=station.operator_id, station_name=station.name
    )


@subscriber("config.changed.v1", consumer="adminconfig")
def on_config_changed(event: EventEnvelope[ConfigChanged]) -> None:
    if event.data.key.startswith("flags."):
        selectors.flag_cache.invalidate()
