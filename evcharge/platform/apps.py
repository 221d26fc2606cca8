from django.apps import AppConfig
from django.conf import settings


class PlatformConfig(AppConfig):
    name = "evcharge.platform"
    label = "platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Every process (web, worker, beat, manage.py, tests) goes through here once: trace it.
        from evcharge import observability

        observability.setup(settings)
