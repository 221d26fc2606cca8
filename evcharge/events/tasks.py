from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from evcharge.events.models import OutboxMessage
from evcharge.events.relay import relay_pending


@shared_task(name="evcharge.events.relay", ignore_result=True)
def relay_outbox() -> int:
    return relay_pending()


@shared_task(name="evcharge.events.purge", ignore_result=True)
def purge_outbox() -> int:
    """Deletes sent outbox rows older than EVENTS_OUTBOX_RETENTION_DAYS (dead rows stay until replayed)."""
    before = timezone.now() - timedelta(days=settings.EVENTS_OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=before).delete()
    return deleted
