"""Printable QR sheets for an operator's connectors: `manage.py qr_sheets --operator <id> --format pdf --out DIR`."""

from pathlib import Path
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.stations import qr, selectors


class Command(BaseCommand):
    help = (
        "Writes printable QR sheets (A4, 3x4 labels: QR code, station name, charger/connector, code) for an "
        "operator's connectors: one PNG per page, or one multi-page PDF."
    )

    def add_arguments(self, parser):
        parser.add_argument("--operator", required=True, help="The operator's id (UUID).")
        parser.add_argument("--format", choices=["png", "pdf"], default="pdf")
        parser.add_argument("--out", required=True, help="Directory to write into (created if missing).")
        parser.add_argument("--station", help="Only this station's connectors (UUID).")

    def handle(self, *args, **options):
        try:
            operator_id = UUID(options["operator"])
            station_id = UUID(options["station"]) if options["station"] else None
        except ValueError as exc:
            raise CommandError("--operator and --station take UUIDs.") from exc
        connectors = list(selectors.connectors_for_sheets(operator_id=operator_id, station_id=station_id))
        if not connectors:
            raise CommandError("This operator has no connectors (check --operator / --station).")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        labels = [
            qr.Label(
                code=c.code,
                station_name=c.charger.station.name,
                connector_line=f"{c.charger.serial} · #{c.number} · {c.type} {c.max_power_kw:g} kW",
            )
            for c in connectors
        ]
        with tqdm(total=len(labels), desc="QR codes", unit="code", disable=options["verbosity"] == 0) as bar:
            pages = list(qr.sheet_pages(labels, progress=bar))
        stem = f"qr-sheets-{operator_id}"
        if options["format"] == "pdf":
            path = out / f"{stem}.pdf"
            pages[0].save(path, "PDF", resolution=150.0, save_all=True, append_images=pages[1:])
            written = [path]
        else:
            written = []
            for number, page in enumerate(pages, start=1):
                path = out / f"{stem}-{number:02d}.png"
                page.save(path, "PNG", dpi=(150, 150))
                written.append(path)
        self.stdout.write(
            self.style.SUCCESS(f"{len(labels)} QR codes on {len(pages)} page(s): ") + ", ".join(str(p) for p in written)
        )
