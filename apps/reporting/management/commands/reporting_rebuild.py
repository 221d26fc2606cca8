"""Rebuilds the reporting read model from scratch by replaying the events still in the outbox, in order."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware
from tqdm import tqdm

from apps.reporting import services
from evcharge.events.envelope import EventEnvelope
from evcharge.events.models import OutboxMessage


def _moment(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None and (day := parse_date(value)) is not None:
        moment = datetime.combine(day, datetime.min.time())
    if moment is None:
        raise CommandError(f"--{option}: expected an ISO date or date-time, got {value!r}")
    return make_aware(moment) if is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Empties the reporting read model and replays the outbox's history (optionally only events "
        "published in [--since, --until)) through the reporting handlers' services."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="ISO date or date-time (UTC unless an offset is given)")
        parser.add_argument("--until", help="ISO date or date-time, exclusive")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        since, until = _moment(options["since"], "since"), _moment(options["until"], "until")
        events = OutboxMessage.objects.filter(type__in=list(services.APPLIERS))
        if since:
            events = events.filter(created_at__gte=since)
        if until:
            events = events.filter(created_at__lt=until)
        events = events.order_by("created_at", "id")
        total = events.count()
        # One transaction, so nobody sees half a rebuild: reports and live events wait on the truncated tables;
        # the live events then apply on top, idempotently (replaying an event twice changes nothing).
        with transaction.atomic():
            services.read_model_truncate()
            with tqdm(total=total, unit="event", disable=options["no_progress"], file=self.stderr) as progress:
                for body in events.values_list("envelope", flat=True).iterator(chunk_size=2000):
                    services.event_apply(envelope=EventEnvelope.from_dict(body))
                    progress.update()
        self.stdout.write(self.style.SUCCESS(f"replayed {total} events into the reporting read model"))
