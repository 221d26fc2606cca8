"""One command for a newcomer: migrate, seed the demo data, serve the API (embedded mode by default)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, seed demo data and run the development server."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="migrate and seed only")

    def handle(self, *args, addrport, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        if not no_serve:
            self.stdout.write(f"API docs: http://{addrport}/api/docs/   admin: http://{addrport}/admin/")
            call_command("runserver", addrport, use_reloader=False)
