import gc
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evcharge.settings")

app = Celery("evcharge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The event bus's consumer of the contexts' queues (EVENTS_CONSUMERS picks them; EVENTS_TRANSPORT=rabbitmq).
app.steps["consumer"].add("evcharge.events.consumer:EventConsumerStep")


class StartupChecks(bootsteps.Step):
    """A worker with a system check error stops before it consumes anything (a signal handler's error would
    only be logged)."""

    def __init__(self, worker, **kwargs):
        import django

        django.setup()  # done already by Celery's Django fixup in a worker; a no-op then
        from evcharge.platform.startup import refuse_to_start_on_check_errors

        refuse_to_start_on_check_errors()
        # As evcharge/wsgi.py: what start-up loaded lives as long as the worker (and its forked pool), frozen
        # out of the collector's full passes, which would otherwise walk it and stall a relay or consumer batch.
        gc.collect()
        gc.freeze()
        super().__init__(worker, **kwargs)


app.steps["worker"].add(StartupChecks)


def register_periodic(name: str, task: str, *, seconds: float, **options) -> None:
    """Adds a beat entry; contexts call it from AppConfig.ready() for their sweeps, expiries and roll-ups."""
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), name: {"task": task, "schedule": seconds, **options}}
