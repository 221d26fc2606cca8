"""Seeds demo data a newcomer can try at once. Idempotent: running it twice changes nothing.

Each context contributes a `demo` module with `seed(context: dict) -> None` (listed in
settings.DEMO_SEEDERS); the shared dict carries ids from one seeder to the next.

Later seeders read read models that earlier seeders' events fill (reservations needs the connectors
that station.created.v1 brings), so the events published while seeding are delivered in-process, right
after each commit, whatever EVENTS_TRANSPORT says: every subscriber lives in this code base, and it
applies them through the same outbox and inbox.
"""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test.utils import override_settings


class Command(BaseCommand):
    help = "Seed demo users, stations, prices and more (documented in the README)."

    def handle(self, *args, **options):
        context: dict = {"stdout": self.stdout}
        with override_settings(EVENTS_TRANSPORT="inline"):
            self._seed_all(context)
        for line in context.get("summary", []):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _seed_all(self, context: dict) -> None:
        for dotted in settings.DEMO_SEEDERS:
            try:
                module = importlib.import_module(dotted)
            except ModuleNotFoundError as exc:
                if exc.name != dotted:
                    raise
                continue
            module.seed(context)
