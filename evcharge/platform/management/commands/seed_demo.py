"""Seeds demo data a newcomer can try at once. Idempotent: running it again, also after using the API,
changes nothing that is already there.

Each context contributes a `demo` module with `seed(context: dict) -> None` (listed in
settings.DEMO_SEEDERS); the shared dict carries ids from one seeder to the next. A module may also offer
`start(context) -> object with stop()`, background work `manage.py demo` runs beside the server (the
simulated chargers).

Later seeders read read models that earlier seeders' events fill (reservations needs the connectors
that station.created.v1 brings), so the events published while seeding are delivered in-process, right
after each commit, whatever EVENTS_TRANSPORT says: every subscriber lives in this code base, and it
applies them through the same outbox and inbox.
"""

import importlib
from types import ModuleType

from django.conf import settings
from django.core.management.base import BaseCommand
from django.test.utils import override_settings


def demo_modules() -> list[ModuleType]:
    modules = []
    for dotted in settings.DEMO_SEEDERS:
        try:
            modules.append(importlib.import_module(dotted))
        except ModuleNotFoundError as exc:
            if exc.name != dotted:
                raise
    return modules


def seed_all(context: dict) -> dict:
    """Runs every seeder over `context` (its flags, e.g. simulate_chargers) and returns it filled."""
    with override_settings(EVENTS_TRANSPORT="inline"):
        for module in demo_modules():
            module.seed(context)
    return context


class Command(BaseCommand):
    help = "Seed demo users, stations, prices and more (documented in the README)."

    def handle(self, *args, **options):
        context = seed_all({"stdout": self.stdout})
        for line in context.get("summary", []):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
