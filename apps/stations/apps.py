from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "apps.stations"
    label = "stations"
    verbose_name = "Stations"

    def ready(self) -> None:
        from apps.stations import handlers  # noqa: F401  (registers the subscribers)
        from apps.stations.facade import StationsFacadeImpl
        from evcharge.contracts import stations

        stations.register(StationsFacadeImpl())
