"""Seeds demo data a newcomer can try at once. Idempotent: running it twice changes nothing.

Each context contributes a `demo` module with `seed(context: dict) -> None` (listed in
settings.DEMO_SEEDERS); the shared dict carries ids from one seeder to the next.
"""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Seed demo users, stations, prices and more (documented in the README)."

    def handle(self, *args, **options):
        context: dict = {"stdout": self.stdout}
        for dotted in settings.DEMO_SEEDERS:
            try:
                module = importlib.import_module(dotted)
            except ModuleNotFoundError as exc:
                if exc.name != dotted:
                    raise
                continue
            module.seed(context)
        for line in context.get("summary", []):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
