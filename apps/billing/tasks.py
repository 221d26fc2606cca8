from datetime import timedelta
from uuid import UUID

from celery import shared_task
from django.conf import settings

from apps.billing import services
from apps.billing.services.holds import SETTLE_HOLD_TASK

RECONCILE_PENDING_PAYMENTS = "billing.reconcile_pending_payments"
SWEEP_PAYMENT_HOLDS = "billing.sweep_payment_holds"
SWEEP_PAYMENT_HOLDS_EVERY_SECONDS = 60


@shared_task(name=RECONCILE_PENDING_PAYMENTS)
def reconcile_pending_payments() -> int:
    """Beat: settle payments stuck in `pending` (see services.payments_reconcile_pending)."""
    return services.payments_reconcile_pending(
        older_than=timedelta(seconds=settings.BILLING_PENDING_PAYMENT_TIMEOUT_SECONDS)
    )


@shared_task(name=SETTLE_HOLD_TASK)
def settle_payment_hold(hold_id: str) -> str | None:
    """After the commit that decided it: capture or void a card pre-authorisation (services.hold_settle)."""
    hold = services.hold_settle(hold_id=UUID(hold_id))
    return hold.status if hold is not None else None


@shared_task(name=SWEEP_PAYMENT_HOLDS)
def sweep_payment_holds() -> int:
    """Beat: release unused holds, settle those a crash or a timeout left half-way (services.holds_sweep)."""
    return services.holds_sweep(unused_after=services.hold_unused_after())
