from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "evcharge.events"
    label = "events"
    verbose_name = "Event bus"
