"""Consumes the contexts' event queues in the foreground, without a Celery worker.

manage.py events_consume                       # every consumer (or EVENTS_CONSUMERS)
manage.py events_consume --consumer billing    # one context
"""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evcharge.events.consumer import ConsumerLoop, configured_consumers
from evcharge.events.topology import consumer_names


class Command(BaseCommand):
    help = "Consumes event queues from RabbitMQ until interrupted (the Celery worker does this in production)."

    def add_arguments(self, parser):
        parser.add_argument("--consumer", action="append", help="a consuming context (repeatable; default: all)")

    def handle(self, *args, consumer=None, **options):
        if not settings.EVENTS_BROKER_URL.startswith("amqp"):
            raise CommandError("set CELERY_BROKER_URL (or EVENTS_BROKER_URL) to an amqp:// URL")
        try:
            names = consumer_names(consumer) if consumer else configured_consumers()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        loop = ConsumerLoop(names).start(timeout=60)
        self.stdout.write(f"consuming {', '.join(names)} (Ctrl-C stops)")
        stop.wait()
        loop.stop()
        self.stdout.write("stopped")
