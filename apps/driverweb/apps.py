from django.apps import AppConfig


class DriverwebConfig(AppConfig):
    name = "apps.driverweb"
    label = "driverweb"
    verbose_name = "Driver web pages"

    def ready(self) -> None:
        from apps.driverweb import handlers  # noqa: F401  (registers the subscribers)
