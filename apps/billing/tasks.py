from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.billing import services

RECONCILE_PENDING_PAYMENTS = "billing.reconcile_pending_payments"


@shared_task(name=RECONCILE_PENDING_PAYMENTS)
def reconcile_pending_payments() -> int:
    """Beat: settle payments stuck in `pending` (see services.payments_reconcile_pending)."""
    return services.payments_reconcile_pending(
        older_than=timedelta(seconds=settings.BILLING_PENDING_PAYMENT_TIMEOUT_SECONDS)
    )
