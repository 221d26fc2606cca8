import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")

app = Celery("evcharge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The event bus's consumer of the contexts' queues (EVENTS_CONSUMERS picks them; EVENTS_TRANSPORT=rabbitmq).
app.steps["consumer"].add("evcharge.events.consumer:EventConsumerStep")


def register_periodic(name: str, task: str, *, seconds: float, **options) -> None:
    """Adds a beat entry; contexts call it from AppConfig.ready() for their sweeps, expiries and roll-ups."""
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), name: {"task": task, "schedule": seconds, **options}}
