from django.apps import AppConfig
from django.conf import settings


class EventsConfig(AppConfig):
    name = "evcharge.events"
    label = "events"
    verbose_name = "Event bus"

    def ready(self) -> None:
        from evcharge.celery import register_periodic
        from evcharge.events import retention  # noqa: F401  (registers its system check)
        from evcharge.events.catalog import load_contracts
        from evcharge.events.metrics import register_collector

        load_contracts()
        register_collector()
        sweep = settings.EVENTS_RELAY_SWEEP_SECONDS
        register_periodic("events-relay-sweep", "evcharge.events.relay", seconds=sweep, options={"expires": sweep})
        register_periodic("events-outbox-purge", "evcharge.events.purge", seconds=3600.0)
