"""`python manage.py ocpp_gateway [--host H] [--port P]`: the OCPP 1.6J gateway (docs/ocpp.md)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.chargepoints.gateway.server import run_gateway


class Command(BaseCommand):
    help = "Runs the OCPP-J gateway: chargers connect to ws://HOST:PORT/ocpp/{charge_box_id} (subprotocol ocpp1.6)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.OCPP_HOST, help="Interface to listen on (OCPP_HOST)")
        parser.add_argument("--port", type=int, default=settings.OCPP_PORT, help="Port to listen on (OCPP_PORT)")
        parser.add_argument("--instance-id", default="", help="Name in the command routing (OCPP_INSTANCE_ID)")

    def handle(self, *args, host: str, port: int, instance_id: str, **options):
        run_gateway(host=host, port=port, instance_id=instance_id or None)
