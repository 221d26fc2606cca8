"""How long the bus keeps what it has handled: sent outbox rows, inbox rows (the dedupe horizon) and dead letters.

An inbox row is what recognises a redelivered event, so it must outlive the longest window in which the same
event can arrive again: the relay resending a row it could not mark sent (its backoff), and a consumer's
retries of a failing delivery (the doubling delay up to the database-error budget). A system check holds it."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.checks import Error, register
from django.utils import timezone

from evcharge.events.archive import archive_sent, drop_expired
from evcharge.events.models import DeadLetter, InboxMessage
from evcharge.events.relay import backoff


def longest_redelivery_window() -> timedelta:
    relay = sum((backoff(attempt) for attempt in range(1, settings.EVENTS_RELAY_MAX_ATTEMPTS + 1)), timedelta())
    attempts = max(settings.EVENTS_HANDLER_MAX_ATTEMPTS, settings.EVENTS_HANDLER_MAX_ATTEMPTS_DB)
    retries = timedelta(seconds=settings.EVENTS_HANDLER_RETRY_DELAY_SECONDS * (2**attempts - 1))
    return relay + timedelta(seconds=settings.EVENTS_RELAY_LEASE_SECONDS) + retries


@register("events")
def inbox_outlives_redeliveries(app_configs=None, **kwargs) -> list[Error]:
    window = longest_redelivery_window()
    if timedelta(days=settings.EVENTS_INBOX_RETENTION_DAYS) <= window:
        return [
            Error(
                f"EVENTS_INBOX_RETENTION_DAYS={settings.EVENTS_INBOX_RETENTION_DAYS} does not outlive the longest "
                f"redelivery window ({window}): a redelivered event could be applied twice.",
                hint="Raise EVENTS_INBOX_RETENTION_DAYS, or lower the retry settings (EVENTS_HANDLER_MAX_ATTEMPTS_DB, "
                "EVENTS_HANDLER_RETRY_DELAY_SECONDS, EVENTS_RELAY_MAX_ATTEMPTS).",
                id="events.E001",
            )
        ]
    return []


@dataclass(frozen=True)
class Purged:
    outbox: int
    """Sent outbox rows moved into the archive."""
    inbox: int
    dead_letters: int


def purge_handled(*, now=None) -> Purged:
    """Moves sent outbox rows past their retention into the archive (unsent rows always stay), drops archived
    months past theirs, and deletes inbox rows and dead letters past their retention."""
    now = now or timezone.now()
    outbox = archive_sent(before=now - timedelta(days=settings.EVENTS_OUTBOX_RETENTION_DAYS))
    drop_expired(now=now)
    inbox, _ = InboxMessage.objects.filter(
        received_at__lt=now - timedelta(days=settings.EVENTS_INBOX_RETENTION_DAYS)
    ).delete()
    dead, _ = DeadLetter.objects.filter(
        created_at__lt=now - timedelta(days=settings.EVENTS_DEADLETTER_RETENTION_DAYS)
    ).delete()
    return Purged(outbox=outbox, inbox=inbox, dead_letters=dead)
