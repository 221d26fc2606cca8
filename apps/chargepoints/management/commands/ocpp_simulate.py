"""`python manage.py ocpp_simulate --charge-box SERIAL --password PW`: a simulated OCPP 1.6J charger."""

import asyncio

from django.core.management.base import BaseCommand

from apps.chargepoints.simulator import ChargerState, run_simulator


class Command(BaseCommand):
    help = (
        "Runs a simulated OCPP 1.6J charger against a gateway: it boots, heartbeats, answers remote starts and "
        "stops, and sends rising meter values while it charges. Ctrl-C stops it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="ws://127.0.0.1:9000/ocpp", help="the gateway's /ocpp URL")
        parser.add_argument("--charge-box", required=True, help="the charger's serial (its charge box id)")
        parser.add_argument("--password", default="", help="its OCPP password (PUT /chargers/{id}/ocpp-credentials)")
        parser.add_argument("--connectors", type=int, default=1)
        parser.add_argument("--power-kw", type=float, default=22.0, help="energy rises at this power while charging")
        parser.add_argument("--meter-interval", type=float, default=5.0, help="seconds between MeterValues")
        parser.add_argument("--id-tag", default="", help="start a local transaction with this RFID tag")
        parser.add_argument("--charge-seconds", type=float, default=0, help="and stop it after this many seconds")

    def handle(self, *args, **options):
        state = ChargerState(
            connectors=options["connectors"], power_kw=options["power_kw"], meter_interval=options["meter_interval"]
        )
        self.stdout.write(f"charger {options['charge_box']} connecting to {options['url']} (Ctrl-C stops)")
        try:
            asyncio.run(
                run_simulator(
                    url=options["url"],
                    charge_box_id=options["charge_box"],
                    password=options["password"],
                    state=state,
                    id_tag=options["id_tag"],
                    charge_seconds=options["charge_seconds"],
                )
            )
        except KeyboardInterrupt:
            self.stdout.write("stopped")
