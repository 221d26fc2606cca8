"""Rebuilds the reporting read model from the whole event history (the archive and the outbox), in order."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware
from tqdm import tqdm

from apps.reporting import services
from evcharge.events.archive import history, history_count
from evcharge.events.envelope import EventEnvelope


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
        "Empties the reporting read model and replays every event it follows from the event archive and the "
        "outbox. With --since/--until it only replays the events published in [since, until) on top of the "
        "read model as it is (applying an event twice changes nothing), and clears nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="ISO date or date-time (UTC unless an offset is given)")
        parser.add_argument("--until", help="ISO date or date-time, exclusive")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        since, until = _moment(options["since"], "since"), _moment(options["until"], "until")
        types = list(services.APPLIERS)
        total = history_count(types, since=since, until=until)
        # One transaction: readers go on seeing the previous figures until it commits (the tables are emptied
        # with DELETE, which does not block reads); live events wait for it, then apply on top, idempotently.
        with transaction.atomic():
            if since is None and until is None:
                services.read_model_clear()
            with tqdm(total=total, unit="event", disable=options["no_progress"], file=self.stderr) as progress:
                for body in history(types, since=since, until=until):
                    services.event_apply(envelope=EventEnvelope.from_dict(body))
                    progress.update()
        self.stdout.write(self.style.SUCCESS(f"replayed {total} events into the reporting read model"))
