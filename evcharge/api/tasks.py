from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from evcharge.api.models import IdempotencyRecord


def idempotency_records_purge() -> int:
    """Deletes stored responses older than IDEMPOTENCY_TTL_HOURS: a retry after that runs again."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="evcharge.api.idempotency_purge", ignore_result=True)
def purge_idempotency_records() -> int:
    return idempotency_records_purge()
