"""Lists and replays dead-lettered events: the DeadLetter table and, with RabbitMQ, each consumer's
dead-letter queue.

    manage.py events_deadletters                      # list both
    manage.py events_deadletters --consumer billing   # one consumer
    manage.py events_deadletters --replay             # replay all
    manage.py events_deadletters --replay --event-id <uuid> [--event-id ...]
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evcharge.events import deadletters
from evcharge.events.models import DeadLetter


class Command(BaseCommand):
    help = "Lists (default) or replays (--replay) dead-lettered events."

    def add_arguments(self, parser):
        parser.add_argument("--consumer", action="append", help="only this consumer (repeatable)")
        parser.add_argument("--event-id", action="append", help="only this event (repeatable)")
        parser.add_argument("--replay", action="store_true", help="hand the events to their consumer again")
        parser.add_argument("--limit", type=int, default=100, help="how many to list per source")
        parser.add_argument(
            "--source", choices=["all", "database", "rabbitmq"], default="all", help="where to look (default: all)"
        )

    def handle(self, *args, consumer=None, event_id=None, replay=False, limit=100, source="all", **options):
        use_queue = source in ("all", "rabbitmq") and settings.EVENTS_BROKER_URL.startswith("amqp")
        if source == "rabbitmq" and not use_queue:
            raise CommandError("no RabbitMQ configured (EVENTS_BROKER_URL / CELERY_BROKER_URL)")
        rows = DeadLetter.objects.filter(replayed_at__isnull=True).order_by("created_at")
        if consumer:
            rows = rows.filter(consumer__in=consumer)
        if event_id:
            rows = rows.filter(event_id__in=event_id)
        use_database = source in ("all", "database")
        try:
            if replay:
                self._replay(rows if use_database else None, consumer, event_id, use_queue)
            else:
                self._list(rows[:limit] if use_database else None, consumer, limit, use_queue)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, rows, consumer, limit, use_queue):
        if rows is not None:
            self.stdout.write("database (DeadLetter):")
            for row in rows:
                self.stdout.write(
                    f"  #{row.id} {row.consumer} {row.type} {row.event_id} attempts={row.attempts} "
                    f"at={row.created_at:%Y-%m-%dT%H:%M:%SZ} error={row.error[:200]}"
                )
            if not rows:
                self.stdout.write("  (none)")
        if use_queue:
            self.stdout.write("rabbitmq (dead-letter queues):")
            letters = deadletters.list_queued(consumer, limit=limit)
            for letter in letters:
                self.stdout.write(
                    f"  {letter.consumer} {letter.type} {letter.event_id} attempts={letter.attempts} "
                    f"at={letter.failed_at} error={letter.error[:200]}"
                )
            if not letters:
                self.stdout.write("  (none)")

    def _replay(self, rows, consumer, event_id, use_queue):
        if rows is not None:
            replayed, failed = deadletters.replay_database(list(rows))
            self.stdout.write(f"database: {replayed} replayed, {failed} failed again")
        if use_queue:
            moved = deadletters.replay_queued(consumer, event_ids=set(event_id) if event_id else None)
            self.stdout.write(f"rabbitmq: {moved} moved back to their queues")
