"""One command for a newcomer: migrate, seed the demo data, serve the API (embedded mode by default),
with simulated chargers that report meter readings while demo sessions run."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from evcharge.platform.management.commands.seed_demo import demo_modules, seed_all


def local_url(addrport: str) -> str:
    """The URL this machine reaches the server at: "8000" and "0.0.0.0:8000" -> http://127.0.0.1:8000."""
    host, _, port = addrport.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):  # noqa: S104 - the server listens on all; we call the local one
        host = "127.0.0.1"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = (
        "Migrate, seed demo data and run the development server on ADDRPORT (default 127.0.0.1:8000), "
        "with simulated chargers for the demo stations."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="[host:]port to serve on")
        parser.add_argument("--no-serve", action="store_true", help="migrate and seed only")
        parser.add_argument(
            "--charger-interval",
            type=float,
            default=2.0,
            help="seconds between two meter readings of a simulated charger (default 2)",
        )

    def handle(self, *args, addrport, no_serve, charger_interval, **options):
        call_command("migrate", interactive=False, verbosity=0)
        base_url = local_url(addrport)
        context = seed_all(
            {"stdout": self.stdout, "simulate_chargers": not no_serve, "base_url": base_url, "tick_s": charger_interval}
        )
        for line in context.get("summary", []):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if no_serve:
            return
        background = [job for module in demo_modules() if hasattr(module, "start") if (job := module.start(context))]
        self.stdout.write(
            f"Simulated chargers report meter readings every {charger_interval:g} s while a demo session runs."
        )
        available = context.get("stations", {}).get("available_connector")
        if available:  # the home page offers it, as a QR code would
            settings.DEMO_QR_URL = f"{base_url}/c/{available['code']}"
            self.stdout.write(f"The page a connector's QR code opens: {settings.DEMO_QR_URL}")
        self.stdout.write(f"Home: {base_url}/   API docs: {base_url}/api/docs/   admin: {base_url}/admin/")
        self.stdout.write('Try it as a driver: the README\'s "The driver flow, command by command".')
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for job in background:
                job.stop()
